"""The native part of ``proofgrid`` (Rust, PyO3): use :mod:`proofgrid` instead."""

from typing import Callable, Optional, Tuple

import numpy as np
import numpy.typing as npt

class NativeClient:
    def __init__(self, url: str, suri: Optional[str] = None, allow_private_endpoints: bool = False) -> None: ...
    @property
    def address(self) -> Optional[str]: ...
    def submit_matmul(
        self,
        a: npt.NDArray[np.int8],
        b: npt.NDArray[np.int8],
        price_cap: str,
        samples: Optional[int] = None,
        lifetime: int = 100,
        public_output: bool = False,
    ) -> NativeJob: ...
    def submit_layer(
        self,
        a: Optional[npt.NDArray[np.int8]],
        a_job: Optional[int],
        w: npt.NDArray[np.int8],
        bias: npt.NDArray[np.int32],
        multiplier: int,
        shift: int,
        relu: bool,
        price_cap: str,
        samples: Optional[int] = None,
        lifetime: int = 100,
    ) -> NativeLayerJob: ...
    def market(self) -> str: ...
    def devices(self) -> str: ...
    def jobs(self) -> str: ...
    def job(self, id: int) -> str: ...
    def balance(self, address: Optional[str] = None) -> Tuple[int, int]: ...

class NativeJob:
    @property
    def id(self) -> int: ...
    @property
    def shape(self) -> Tuple[int, int, int]: ...
    def view(self) -> str: ...
    def result(
        self,
        timeout: Optional[float] = None,
        on_step: Optional[Callable[[str, str], None]] = None,
    ) -> npt.NDArray[np.int32]: ...

def format_grid(planck: int) -> str: ...
def parse_grid_text(text: str) -> int: ...

class NativeLayerJob:
    @property
    def id(self) -> int: ...
    @property
    def shape(self) -> Tuple[int, int, int]: ...
    @property
    def units(self) -> int: ...
    def view(self) -> str: ...
    def result(
        self,
        timeout: Optional[float] = None,
        on_step: Optional[Callable[[str, str], None]] = None,
    ) -> npt.NDArray[np.int8]: ...
    def settle(
        self,
        timeout: Optional[float] = None,
        on_step: Optional[Callable[[str, str], None]] = None,
    ) -> str: ...
