/** The named errors of personal-data encryption. Callers test with `instanceof`. */

/** Base class: anything that went wrong encrypting or decrypting personal data. */
export class PiiError extends Error {
  override name = "PiiError";
}

/** The keyring given in the configuration cannot be used (format, length, duplicate ids). */
export class PiiKeyringError extends PiiError {
  override name = "PiiKeyringError";
}

/** A stored value is not a ciphertext of this format (`v1.<kid>.<iv>.<ct>.<tag>`). */
export class PiiFormatError extends PiiError {
  override name = "PiiFormatError";
}

/** A ciphertext names a key the keyring does not hold (retired too early, or another deployment). */
export class UnknownPiiKeyError extends PiiError {
  override name = "UnknownPiiKeyError";
  constructor(
    readonly kid: string,
    options?: ErrorOptions,
  ) {
    super(`no key "${kid}" in the personal-data keyring`, options);
  }
}

/**
 * The ciphertext does not authenticate: it was altered, or it belongs to another order or
 * another field (the order id and field name are its associated data).
 */
export class PiiAuthenticationError extends PiiError {
  override name = "PiiAuthenticationError";
}
