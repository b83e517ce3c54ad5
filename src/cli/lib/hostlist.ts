/**
 * RFC 29 hostlists, as far as the resource listings need them: `vm`, `node[0-3,7]`,
 * `a1,b[2-3]x`, decoded into host names and encoded back (numeric suffixes grouped).
 */

/** Expand a hostlist into host names, in order. */
export function hostlistDecode(s: string): string[] {
  const out: string[] = [];
  // split on commas outside brackets
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '[') depth++;
    else if (c === ']') depth--;
    if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  for (const p of parts) {
    if (p === '') continue;
    const m = /^([^[]*)\[([^\]]*)\](.*)$/.exec(p);
    if (!m) {
      out.push(p);
      continue;
    }
    const [, pre, ranges, suf] = m as unknown as [string, string, string, string];
    for (const r of ranges.split(',')) {
      const [a, b] = r.split('-');
      if (b === undefined) {
        out.push(pre + a + suf);
        continue;
      }
      const width = a!.length;
      for (let i = Number(a); i <= Number(b); i++) out.push(pre + String(i).padStart(width, '0') + suf);
    }
  }
  return out;
}

/** Compress host names into a hostlist (`node[0-3]`), keeping first-seen prefix order. */
export function hostlistEncode(hosts: readonly string[]): string {
  const groups: Array<{ pre: string; nums: Array<{ n: number; w: number }> }> = [];
  const plain: Array<string | { g: number }> = [];
  for (const h of hosts) {
    const m = /^(.*?)(\d+)$/.exec(h);
    if (!m) {
      plain.push(h);
      continue;
    }
    let g = groups.findIndex((x) => x.pre === m[1]);
    if (g < 0) {
      groups.push({ pre: m[1]!, nums: [] });
      g = groups.length - 1;
      plain.push({ g });
    }
    groups[g]!.nums.push({ n: Number(m[2]), w: m[2]!.length });
  }
  return plain
    .map((p) => {
      if (typeof p === 'string') return p;
      const { pre, nums } = groups[p.g]!;
      if (nums.length === 1) return pre + String(nums[0]!.n).padStart(nums[0]!.w, '0');
      const sorted = [...nums].sort((a, b) => a.n - b.n);
      const ranges: string[] = [];
      for (let i = 0; i < sorted.length;) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1]!.n === sorted[j]!.n + 1 && sorted[j + 1]!.w === sorted[i]!.w) j++;
        const a = String(sorted[i]!.n).padStart(sorted[i]!.w, '0');
        const b = String(sorted[j]!.n).padStart(sorted[i]!.w, '0');
        ranges.push(i === j ? a : `${a}-${b}`);
        i = j + 1;
      }
      return `${pre}[${ranges.join(',')}]`;
    })
    .join(',');
}
