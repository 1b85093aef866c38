//! What the device does differently for each kind of job beyond computing a GEMM: the
//! [`supplied`] reveal (elements with their rows and columns of the client's inputs), the
//! [`layer`] output and reveal (`linear-i8`), the [`spot_check`] of an accelerator's output
//! before it is committed, the tests' cheater ([`faults`]), and a whole [`model`]'s outputs
//! and reveal (`model-i8`).

pub mod faults;
pub mod layer;
pub mod model;
pub mod spot_check;
pub mod supplied;
