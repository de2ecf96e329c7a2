/**
 * Personal data at rest: field-level AES-256-GCM under a keyring from the configuration, the
 * shopper's contact encrypted field by field, and the masks shown to stores and couriers.
 * Pure code but for reading or creating a development keyring file (`loadKeyring`).
 */
export { PiiCipher } from "./cipher.ts";
export type { PiiContext } from "./cipher.ts";
export { CONTACT_FIELDS, decryptContact, encryptContact } from "./contact.ts";
export type { DecryptedContact, EncryptedContact, ShopperContact } from "./contact.ts";
export {
  PiiAuthenticationError,
  PiiError,
  PiiFormatError,
  PiiKeyringError,
  UnknownPiiKeyError,
} from "./errors.ts";
export { KEY_ID, loadKeyring, newKeyringEntry, parseKeyring } from "./keyring.ts";
export type { LoadKeyringOptions, PiiKeyring } from "./keyring.ts";
export { maskAddress, maskName, maskPhone } from "./mask.ts";
export { rotateContacts } from "./rotate.ts";
export type { ContactCiphertexts, ContactCiphertextStore, RotationReport } from "./rotate.ts";
