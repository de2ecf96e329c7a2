/**
 * Masks for showing personal data to people who need to recognise it but not to have it: a
 * store matching a parcel to a shopper, a courier on the phone with a dispatcher.
 * Code points, not UTF-16 units, so a Chinese name or an emoji is never cut in half.
 */

/** `13812341234` → `138****1234`; anything shorter than 8 characters is masked whole. */
export function maskPhone(phone: string): string {
  const chars = [...phone];
  if (chars.length < 8) return "****";
  return `${chars.slice(0, 3).join("")}****${chars.slice(-4).join("")}`;
}

/** `张三` → `张*`, `欧阳娜娜` → `欧***`: the first character only (the surname, in Chinese). */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length <= 1) return "*";
  return `${chars[0]}${"*".repeat(Math.min(chars.length - 1, 3))}`;
}

/**
 * `云南省昆明市五华区翠湖南路12号3栋502` → `云南省昆明市****`: the first third, at most six
 * characters (the city and district, as a Chinese address begins), never the street or door.
 */
export function maskAddress(address: string): string {
  const chars = [...address.trim()];
  const keep = Math.min(6, Math.floor(chars.length / 3));
  return `${chars.slice(0, keep).join("")}****`;
}
