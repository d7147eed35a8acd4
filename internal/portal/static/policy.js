// The verification policy this browser keeps: the timestamp authorities
// and witnesses a receipt must satisfy beyond the vault's key, as
// evault's --tsa-roots and --witness flags give them. It is taken on
// first use from the vault (GET /v1/verification-policy), as the key is
// pinned, and kept in localStorage: a later change by whoever runs the
// vault is shown beside the kept policy, never followed by itself. The
// user may replace it with what they obtained elsewhere (the authority's
// root from its trust list, the witnesses' published keys).

import { parseWitness } from "./witnesses.js";
import { parseCertificates } from "./timestamps.js";

const KEY = "evidencevault.policy";

export const keptPolicy = () => JSON.parse(localStorage.getItem(KEY) || "null");

// keepPolicy stores p ({timestamps, witnesses, require, source}).
export function keepPolicy(p) {
  localStorage.setItem(KEY, JSON.stringify({ ...p, keptAt: new Date().toISOString() }));
}

const same = (a, b) => JSON.stringify({ t: a?.timestamps ?? null, w: a?.witnesses ?? null }) === JSON.stringify({ t: b?.timestamps ?? null, w: b?.witnesses ?? null });

// verificationPolicy returns the kept policy (taking the vault's on first
// use), what the vault names now, whether the two differ, and the kept
// one parsed for verify.js.
export async function verificationPolicy(get) {
  let offered = null;
  try {
    offered = await get("/v1/verification-policy");
  } catch {
    // A vault that names nothing: the kept policy, or none, stands.
  }
  let kept = keptPolicy();
  if (!kept && offered) {
    kept = { timestamps: offered.timestamps ?? null, witnesses: offered.witnesses ?? null, require: false, source: "the vault, on first use" };
    keepPolicy(kept);
  }
  return { kept, offered, changed: !!(kept && offered && !same(kept, offered)), compiled: await compilePolicy(kept) };
}

// compilePolicy parses a kept policy into what verify.js checks with:
// {stamps: {roots, intermediates, policy, qualified, require} | null,
// witnesses: {witnesses, quorum} | null}.
export async function compilePolicy(p) {
  const out = { stamps: null, witnesses: null };
  if (!p) return out;
  if (p.timestamps?.roots?.length) {
    out.stamps = {
      roots: await parseCertificates(p.timestamps.roots),
      intermediates: await parseCertificates(p.timestamps.intermediates || []),
      policy: p.timestamps.policy || "", qualified: !!p.timestamps.qualified, require: !!p.require,
    };
  }
  if (p.witnesses?.keys?.length) {
    const witnesses = [];
    for (const k of p.witnesses.keys) witnesses.push(await parseWitness(k));
    out.witnesses = { witnesses, quorum: p.witnesses.quorum || witnesses.length };
  }
  return out;
}
