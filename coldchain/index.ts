/**
 * Cold-chain certificates: build and sign one for a delivered chilled or frozen order, verify it
 * offline, and render it as a printable page. Pure code: no I/O but reading or creating the
 * signing key file (`loadSigner`).
 */
export {
  CERTIFICATE_KIND,
  CERTIFICATE_VERSION,
  CHAIN_DOMAIN,
  Certificate,
  CertificateCompartmentClass,
  CertificateExcursion,
  CertificateInput,
  CertificateInputError,
  CertificateKeyError,
  CertificateReading,
  CertificateSignature,
  CertificateSummary,
  CertificateTemperatureClass,
  CertificateVerdict,
  Ed25519PublicJwk,
  ExcursionKind,
  TemperatureRange,
  buildCertificate,
  canonicalJson,
  canonicalReading,
  chainGenesis,
  chainLink,
  chainReadings,
  readingKey,
  summarize,
  toShanghaiIso,
  verifyCertificate,
} from "./certificate.ts";
export type {
  BuildCertificateOptions,
  CertificateSigner,
  CertificateVerification,
  ChainSubject,
  ClippedExcursion,
  ReadingChain,
  SummaryInput,
  UnsignedCertificate,
  VerifyCertificateOptions,
} from "./certificate.ts";
export { loadSigner, publicJwks } from "./keys.ts";
export type { LoadSignerOptions } from "./keys.ts";
export { renderCertificateHtml } from "./html.ts";
export type { CertificateLocale, RenderCertificateOptions } from "./html.ts";
