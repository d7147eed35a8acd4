// The portal's worker: SHA-256 of files and downloads off the page's
// thread, streamed through hash-wasm's SHA-256 as the bytes arrive, so
// that hashing overlaps reading and memory stays constant. Holding a
// file whole and hashing it with WebCrypto (which hashes only whole
// buffers) was slower in make bench: reading and hashing then take turns,
// and the browser's own SHA-256 runs without the CPU's SHA instructions
// (docs/design.md). WebCrypto hashes the parts of a multipart upload,
// each whole anyway. A download is held in memory (download.js's IN_MEMORY)
// or written to the origin-private file system; either way the page
// offers it for saving only once its receipt verifies.
importScripts("vendor/sha256.umd.min.js");

const PROGRESS_EVERY = 32 << 20;
const hexOf = (buf) => Array.from(new Uint8Array(buf), (x) => x.toString(16).padStart(2, "0")).join("");
const webcrypto = async (bytes) => hexOf(await crypto.subtle.digest("SHA-256", bytes));

// download reads the body of a presigned GET it makes (get), or a stream
// the page transferred, of expected bytes, hashing as it goes. In memory
// it returns the bytes; else it writes them to the origin-private file
// system as name. More bytes than expected are refused at once: the
// receipt names the size.
async function download({ get, stream, name, expected, inMemory }) {
  if (get) {
    const resp = await fetch(get.url, { method: get.method, headers: get.headers });
    if (!resp.ok) throw new Error(`storage answered ${resp.status} for the version's bytes`);
    stream = resp.body;
  }
  const reader = stream.getReader();
  const h = await hashwasm.createSHA256();
  h.init();
  let size = 0, next = PROGRESS_EVERY;
  const tick = (n) => { size += n; if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; } };
  const tooLong = (n) => expected !== undefined && size + n > expected;
  if (inMemory) {
    const buf = new Uint8Array(expected);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (tooLong(value.length)) { reader.cancel(); return { sha256: "", size: size + value.length, tooLong: true }; }
      h.update(value);
      buf.set(value, size);
      tick(value.length);
    }
    return { sha256: h.digest("hex"), size, bytes: buf.subarray(0, size) };
  }
  const dir = await navigator.storage.getDirectory();
  const out = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
  try {
    out.truncate(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (tooLong(value.length)) { reader.cancel(); return { sha256: "", size: size + value.length, tooLong: true }; }
      h.update(value);
      out.write(value, { at: size });
      tick(value.length);
    }
    out.flush();
  } finally {
    out.close();
  }
  return { sha256: h.digest("hex"), size };
}

// hash hashes a file the user chose: whole, streamed, and per multipart
// part of partSize (parts are read one at a time, and hashed by
// WebCrypto).
async function hash({ file, partSize }) {
  const parts = [];
  if (partSize) {
    for (let at = 0, n = 0; at < file.size; at += partSize, n++) {
      parts.push(await webcrypto(await file.slice(at, at + partSize).arrayBuffer()));
      if (n % 4 === 3) postMessage({ progress: Math.min(at + partSize, file.size) });
    }
  }
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

onmessage = async (e) => {
  try {
    const op = { download, hash }[e.data.op];
    const done = await op(e.data);
    postMessage({ done }, done.bytes ? [done.bytes.buffer] : []);
  } catch (err) {
    postMessage({ error: String((err && err.message) || err) });
  }
};
