// The portal's worker: SHA-256 of files and downloads off the page's
// thread. Two ways, by size:
//   - up to IN_MEMORY bytes, the bytes are held in memory and hashed by
//     WebCrypto, the browser's native SHA-256 (with the CPU's SHA
//     instructions, about four times hash-wasm's speed here);
//   - above, they stream in constant memory through hash-wasm's SHA-256
//     (WebCrypto hashes only whole buffers), and a download streams into
//     the origin-private file system, never whole in memory.
// A receipt that lists the SHA-256 of each part of a multipart upload
// (storage.parts) lets both go faster: each part is hashed by WebCrypto as
// it arrives, while the next is read, on another core.
// Either way the page offers a download for saving only once its receipt
// verifies.
importScripts("vendor/sha256.umd.min.js");

const IN_MEMORY = 1 << 30;
const PROGRESS_EVERY = 32 << 20;
const hexOf = (buf) => Array.from(new Uint8Array(buf), (x) => x.toString(16).padStart(2, "0")).join("");
const webcrypto = async (bytes) => hexOf(await crypto.subtle.digest("SHA-256", bytes));

// PartHashes hashes consecutive parts of size bytes with WebCrypto, each
// as soon as it is complete, while the caller goes on reading.
class PartHashes {
  constructor(size) { this.size = size; this.pending = []; this.buf = null; this.in = 0; }
  // add takes the next bytes, copied into the part being filled.
  add(bytes) {
    for (let at = 0; at < bytes.length;) {
      if (!this.buf) this.buf = new Uint8Array(this.size);
      const n = Math.min(bytes.length - at, this.size - this.in);
      this.buf.set(bytes.subarray(at, at + n), this.in);
      this.in += n;
      at += n;
      if (this.in === this.size) this.flush();
    }
  }
  flush() {
    if (this.in > 0) this.pending.push(webcrypto(this.buf.subarray(0, this.in)));
    this.buf = null;
    this.in = 0;
  }
  async done() { this.flush(); return { size: this.size, sha256: await Promise.all(this.pending) }; }
}

// download reads a presigned GET's body (a stream the page transferred)
// of expected bytes. In memory it returns the bytes; else it writes them
// to the origin-private file system as name. More bytes than expected
// are refused at once: the receipt names the size. With partSize (the
// receipt lists parts) it returns the parts' SHA-256 instead of the
// whole file's.
async function download({ stream, name, expected, partSize, inMemory = expected <= IN_MEMORY }) {
  const reader = stream.getReader();
  let size = 0, next = PROGRESS_EVERY;
  const tick = (n) => { size += n; if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; } };
  if (inMemory) {
    const buf = new Uint8Array(expected);
    const parts = [];
    let hashed = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.length > expected) { reader.cancel(); return { sha256: "", size: size + value.length, tooLong: true }; }
      buf.set(value, size);
      tick(value.length);
      for (; partSize && size - hashed >= partSize; hashed += partSize) parts.push(webcrypto(buf.subarray(hashed, hashed + partSize)));
    }
    const bytes = buf.subarray(0, size);
    if (partSize) {
      if (size > hashed) parts.push(webcrypto(buf.subarray(hashed, size)));
      return { parts: { size: partSize, sha256: await Promise.all(parts) }, size, bytes };
    }
    return { sha256: await webcrypto(bytes), size, bytes };
  }
  const dir = await navigator.storage.getDirectory();
  const out = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
  const h = partSize ? null : await hashwasm.createSHA256();
  const parts = partSize ? new PartHashes(partSize) : null;
  h?.init();
  try {
    out.truncate(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (parts) parts.add(value); else h.update(value);
      out.write(value, { at: size });
      tick(value.length);
    }
    out.flush();
  } finally {
    out.close();
  }
  return parts ? { parts: await parts.done(), size } : { sha256: h.digest("hex"), size };
}

// hash hashes a file the user chose: whole, and per multipart part of
// partSize (parts are read one at a time, and hashed by WebCrypto).
async function hash({ file, partSize, inMemory = file.size <= IN_MEMORY }) {
  const parts = [];
  if (partSize) {
    for (let at = 0, n = 0; at < file.size; at += partSize, n++) {
      parts.push(await webcrypto(await file.slice(at, at + partSize).arrayBuffer()));
      if (n % 4 === 3) postMessage({ progress: Math.min(at + partSize, file.size) });
    }
  }
  if (inMemory) return { sha256: await webcrypto(await file.arrayBuffer()), size: file.size, parts };
  const h = await hashwasm.createSHA256();
  h.init();
  let size = 0, next = PROGRESS_EVERY;
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
    size += value.length;
    if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; }
  }
  return { sha256: h.digest("hex"), size, parts };
}

// parts hashes a file the user has by the parts its receipt lists: it
// streams in while the parts already read are hashed.
async function parts({ file, partSize }) {
  const p = new PartHashes(partSize);
  let size = 0, next = PROGRESS_EVERY;
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    p.add(value);
    size += value.length;
    if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; }
  }
  return { parts: await p.done(), size };
}

onmessage = async (e) => {
  try {
    const op = { download, hash, parts }[e.data.op];
    const done = await op(e.data);
    postMessage({ done }, done.bytes ? [done.bytes.buffer] : []);
  } catch (err) {
    postMessage({ error: String((err && err.message) || err) });
  }
};
