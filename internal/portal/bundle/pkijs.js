// What the portal takes of pkijs (CMS and X.509 in the browser, on
// WebCrypto) to check RFC 3161 timestamps: scripts/portal.sh bundles it
// with its dependencies into static/vendor/pkijs.js, one module loaded
// only when a receipt's timestamp is checked.
export { Certificate, ContentInfo, SignedData, TimeStampResp, TSTInfo } from "pkijs";
export { fromBER } from "asn1js";
