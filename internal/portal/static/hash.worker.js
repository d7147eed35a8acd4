// The portal's worker: streaming SHA-256 (hash-wasm) off the page's
// thread, for files of many GiB, which WebCrypto can only hash whole.
//
// download: the bytes of a presigned GET stream into a file of the
//   origin-private file system while they are hashed; the page offers that
//   file for saving only once the receipt verifies, and removes it if not.
// hash: a file the user dropped, whole and per multipart part.
importScripts("vendor/sha256.umd.min.js");

const PROGRESS_EVERY = 32 << 20;

async function download({ stream, name }) {
  const dir = await navigator.storage.getDirectory();
  const fh = await dir.getFileHandle(name, { create: true });
  const out = await fh.createSyncAccessHandle();
  const h = await hashwasm.createSHA256();
  h.init();
  let size = 0, next = PROGRESS_EVERY;
  try {
    out.truncate(0);
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      h.update(value);
      out.write(value, { at: size });
      size += value.length;
      if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; }
    }
    out.flush();
  } finally {
    out.close();
  }
  return { sha256: h.digest("hex"), size };
}

async function hash({ file, partSize }) {
  const whole = await hashwasm.createSHA256();
  const part = await hashwasm.createSHA256();
  whole.init();
  part.init();
  const parts = [];
  let size = 0, inPart = 0, next = PROGRESS_EVERY;
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    whole.update(value);
    // Part boundaries fall inside chunks: split them there.
    for (let at = 0; partSize && at < value.length;) {
      const n = Math.min(value.length - at, partSize - inPart);
      part.update(value.subarray(at, at + n));
      at += n;
      inPart += n;
      if (inPart === partSize) { parts.push(part.digest("hex")); part.init(); inPart = 0; }
    }
    size += value.length;
    if (size >= next) { postMessage({ progress: size }); next += PROGRESS_EVERY; }
  }
  if (partSize && inPart > 0) parts.push(part.digest("hex"));
  return { sha256: whole.digest("hex"), size, parts };
}

onmessage = async (e) => {
  try {
    const op = { download, hash }[e.data.op];
    postMessage({ done: await op(e.data) });
  } catch (err) {
    postMessage({ error: String(err && err.message || err) });
  }
};
