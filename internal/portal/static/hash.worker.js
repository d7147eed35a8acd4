// The portal's worker: SHA-256 of files and downloads off the page's
// thread. Two ways, by size (the page says which, download.js's IN_MEMORY):
//   - small enough, the bytes are held in memory and hashed by
//     WebCrypto, the browser's native SHA-256 (with the CPU's SHA
//     instructions, about four times hash-wasm's speed here);
//   - above, they stream in constant memory through hash-wasm's SHA-256
//     (WebCrypto hashes only whole buffers), and a download streams into
//     the origin-private file system, never whole in memory.
// Either way the page offers a download for saving only once its receipt
// verifies.
importScripts("vendor/sha256.umd.min.js");

const PROGRESS_EVERY = 32 << 20;
const hexOf = (buf) => Array.from(new Uint8Array(buf), (x) => x.toString(16).padStart(2, "0")).join("");
const webcrypto = async (bytes) => hexOf(await crypto.subtle.digest("SHA-256", bytes));

// download reads a presigned GET's body (a stream the page transferred)
// of expected bytes. In memory it returns the bytes; else it writes them
// to the origin-private file system as name. More bytes than expected
// are refused at once: the receipt names the size.
async function download({ stream, name, expected, inMemory }) {
  const reader = stream.getReader();
  let size = 0, next = PROGRESS_EVERY;
  const tick = (n) => { size += n; if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; } };
  if (inMemory) {
    const buf = new Uint8Array(expected);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.length > expected) { reader.cancel(); return { sha256: "", size: size + value.length, tooLong: true }; }
      buf.set(value, size);
      tick(value.length);
    }
    const bytes = buf.subarray(0, size);
    return { sha256: await webcrypto(bytes), size, bytes };
  }
  const dir = await navigator.storage.getDirectory();
  const out = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
  const h = await hashwasm.createSHA256();
  h.init();
  try {
    out.truncate(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (expected !== undefined && size + value.length > expected) { reader.cancel(); return { sha256: "", size: size + value.length, tooLong: true }; }
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

// hash hashes a file the user chose: whole, and per multipart part of
// partSize (parts are read one at a time, and hashed by WebCrypto).
async function hash({ file, partSize, inMemory }) {
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

onmessage = async (e) => {
  try {
    const op = { download, hash }[e.data.op];
    const done = await op(e.data);
    postMessage({ done }, done.bytes ? [done.bytes.buffer] : []);
  } catch (err) {
    postMessage({ error: String((err && err.message) || err) });
  }
};
