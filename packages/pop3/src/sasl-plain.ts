/** The parts of a SASL PLAIN message. @see RFC 4616 §2 */
export interface PlainCredentials {
  authzid: string;
  authcid: string;
  password: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes a base64 SASL response strictly (Node's decoder skips bad characters, which would
 * let garbage pass). `=` alone is the empty response of RFC 5034 §4. Undefined when invalid.
 */
export function decodeSaslResponse(text: string): Buffer | undefined {
  if (text === '=') return Buffer.alloc(0);
  if (!BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/**
 * Parses `authzid NUL authcid NUL passwd` (UTF-8). Undefined when it is not exactly three
 * parts or the identity is empty.
 * @see RFC 4616 §2
 */
export function parsePlain(message: Buffer): PlainCredentials | undefined {
  const parts = message.toString('utf8').split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === '' || password === '') return undefined;
  return { authzid, authcid, password };
}
