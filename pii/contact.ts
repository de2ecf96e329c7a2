/**
 * A shopper's contact as the gateway takes it (plaintext, validated by the wire schema) and as
 * everything behind the gateway holds it: each field its own ciphertext, bound to the order and
 * the field, so the order actor, the event stream and Postgres never see the plaintext.
 */
import type { PiiCipher } from "./cipher.ts";

export interface ShopperContact {
  readonly name: string;
  /** A mainland mobile number, 11 digits. */
  readonly phone: string;
  /** The door's address as written; absent for a pickup point. */
  readonly address?: string | undefined;
  /** 门口备注: how to find the door, where to leave the goods. */
  readonly doorNote?: string | undefined;
}

export interface EncryptedContact {
  readonly name: string;
  readonly phone: string;
  readonly address: string | null;
  readonly doorNote: string | null;
}

/** Field names as bound into each ciphertext (and as the Postgres columns are named). */
export const CONTACT_FIELDS = {
  name: "shopper_name",
  phone: "shopper_phone",
  address: "shopper_address",
  doorNote: "shopper_door_note",
} as const;

export function encryptContact(
  cipher: PiiCipher,
  orderId: string,
  contact: ShopperContact,
): EncryptedContact {
  const enc = (value: string, field: string) => cipher.encrypt(value, { recordId: orderId, field });
  return {
    name: enc(contact.name, CONTACT_FIELDS.name),
    phone: enc(contact.phone, CONTACT_FIELDS.phone),
    address: contact.address ? enc(contact.address, CONTACT_FIELDS.address) : null,
    doorNote: contact.doorNote ? enc(contact.doorNote, CONTACT_FIELDS.doorNote) : null,
  };
}

export interface DecryptedContact {
  readonly name: string;
  readonly phone: string;
  readonly address: string | null;
  readonly doorNote: string | null;
}

/** Throws the cipher's errors (PiiFormatError, UnknownPiiKeyError, PiiAuthenticationError). */
export function decryptContact(
  cipher: PiiCipher,
  orderId: string,
  contact: EncryptedContact,
): DecryptedContact {
  const dec = (value: string, field: string) => cipher.decrypt(value, { recordId: orderId, field });
  return {
    name: dec(contact.name, CONTACT_FIELDS.name),
    phone: dec(contact.phone, CONTACT_FIELDS.phone),
    address: contact.address === null ? null : dec(contact.address, CONTACT_FIELDS.address),
    doorNote: contact.doorNote === null ? null : dec(contact.doorNote, CONTACT_FIELDS.doorNote),
  };
}
