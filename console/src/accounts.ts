// Who signs: the dev chain's well-known accounts (a test network's keys, never value), or
// accounts a browser extension (polkadot{.js}, Talisman, …) injects into the page.
import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady } from "@polkadot/util-crypto";
import { u8aToHex, hexToU8a } from "@polkadot/util";
import type { Signatory } from "./chain";

export const DEV_ACCOUNTS = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

let keyring: Keyring | undefined;

export async function devAccount(name: string): Promise<Signatory> {
	await cryptoWaitReady();
	keyring ??= new Keyring({ type: "sr25519", ss58Format: 42 });
	const pair = keyring.addFromUri(`//${name}`);
	return { kind: "pair", address: pair.address, pair };
}

/** Accounts the page's extensions offer (asks the user once); none without an extension. */
export async function extensionAccounts(): Promise<Signatory[]> {
	const { web3Enable, web3Accounts, web3FromAddress } = await import("@polkadot/extension-dapp");
	const extensions = await web3Enable("ProofGrid console");
	if (extensions.length === 0) return [];
	const accounts = await web3Accounts();
	return Promise.all(
		accounts.map(async (a) => {
			const injector = await web3FromAddress(a.address);
			return { kind: "extension" as const, address: a.address, signer: injector.signer, name: `${a.meta.name ?? "account"} (${a.meta.source})` };
		}),
	);
}

/** An sr25519 signature (64 bytes) of `message`, as a device checks it. An extension signs
 * `<Bytes>message</Bytes>`, which devices accept as the same consent. */
export async function signRaw(who: Signatory, message: Uint8Array): Promise<string> {
	if (who.kind === "pair") return u8aToHex(who.pair.sign(message));
	if (!who.signer.signRaw) throw new Error("this wallet cannot sign messages");
	const { signature } = await who.signer.signRaw({ address: who.address, data: u8aToHex(message), type: "bytes" });
	const bytes = hexToU8a(signature);
	// A MultiSignature (a type byte, then 64) from some wallets: the 64 bytes are the signature.
	return u8aToHex(bytes.length === 65 ? bytes.subarray(1) : bytes);
}
