/**
 * basemoji: flux-core's emoji encoding of unsigned 64-bit integers
 * (src/common/libutil/basemoji.c).  A base-576 positional encoding, most significant
 * digit first, over a fixed selection of 576 emoji (Unicode 2010 set in CLDR collation
 * order).  Every emoji in the table is a single code point in U+1F000..U+1FFFF, i.e. 4
 * UTF-8 bytes starting F0 9F.  Zero encodes as the first emoji.
 */

const TABLE = `
😃 😄 😁 😆 😅 😂 😉 😊 😍 😘 😚 😋
😜 😝 😏 😒 😌 😔 😪 😷 😵 😲 😳 😨
😰 😥 😢 😭 😱 😖 😣 😞 😓 😩 😫 😤
😡 😠 👿 💀 💩 👹 👺 👻 👽 👾 😺 😸
😹 😻 😼 😽 🙀 😿 😾 🙈 🙉 🙊 💌 💘
💝 💖 💗 💓 💞 💕 💟 💔 💛 💚 💙 💜
💋 💯 💢 💥 💫 💦 💨 💬 💤 👋 👌 👈
👉 👆 👇 👍 👎 👊 👏 🙌 👐 🙏 💅 💪
👂 👃 👀 👅 👄 👶 👦 👧 👱 👨 👩 👴
👵 🙍 🙎 🙅 🙆 💁 🙋 🙇 👮 💂 👷 👸
👳 👲 👰 👼 🎅 💆 💇 🚶 🏃 💃 👯 🏂
🏄 🏊 🛀 👫 💏 💑 👪 👤 👣 🐵 🐒 🐶
🐩 🐺 🐱 🐯 🐴 🐎 🐮 🐷 🐗 🐽 🐑 🐫
🐘 🐭 🐹 🐰 🐻 🐨 🐼 🐾 🐔 🐣 🐤 🐥
🐦 🐧 🐸 🐢 🐍 🐲 🐳 🐬 🐟 🐠 🐡 🐙
🐚 🐌 🐛 🐜 🐝 🐞 💐 🌸 💮 🌹 🌺 🌻
🌼 🌷 🌱 🌴 🌵 🌾 🌿 🍀 🍁 🍂 🍃 🍄
🍇 🍈 🍉 🍊 🍌 🍍 🍎 🍏 🍑 🍒 🍓 🍅
🍆 🌽 🌰 🍞 🍖 🍗 🍔 🍟 🍕 🍳 🍲 🍱
🍘 🍙 🍚 🍛 🍜 🍝 🍠 🍢 🍣 🍤 🍥 🍡
🍦 🍧 🍨 🍩 🍪 🎂 🍰 🍫 🍬 🍭 🍮 🍯
🍵 🍶 🍷 🍸 🍹 🍺 🍻 🍴 🔪 🌏 🗾 🌋
🗻 🏠 🏡 🏢 🏣 🏥 🏦 🏨 🏩 🏪 🏫 🏬
🏭 🏯 🏰 💒 🗼 🗽 🌁 🌃 🌄 🌅 🌆 🌇
🌉 🎠 🎡 🎢 💈 🎪 🚃 🚄 🚅 🚇 🚉 🚌
🚑 🚒 🚓 🚕 🚗 🚙 🚚 🚲 🚏 🚨 🚥 🚧
🚤 🚢 💺 🚀 🕛 🕐 🕑 🕒 🕓 🕔 🕕 🕖
🕗 🕘 🕙 🕚 🌑 🌓 🌔 🌕 🌙 🌛 🌟 🌠
🌌 🌀 🌈 🌂 🔥 💧 🌊 🎃 🎄 🎆 🎇 🎈
🎉 🎊 🎋 🎍 🎎 🎏 🎐 🎑 🎀 🎁 🎫 🏆
🏀 🏈 🎾 🎳 🎣 🎽 🎿 🎯 🔫 🎱 🔮 🎮
🎰 🎲 🃏 🀄 🎴 🎭 🎨 👓 👔 👕 👖 👗
👘 👙 👚 👛 👜 👝 🎒 👞 👟 👠 👡 👢
👑 👒 🎩 🎓 💄 💍 💎 🔊 📢 📣 🔔 🎼
🎵 🎶 🎤 🎧 📻 🎷 🎸 🎹 🎺 🎻 📱 📲
📞 📟 📠 🔋 🔌 💻 💽 💾 💿 📀 🎥 🎬
📺 📷 📹 📼 🔍 🔎 💡 🔦 🏮 📔 📕 📖
📗 📘 📙 📚 📓 📒 📃 📜 📄 📰 📑 🔖
💰 💴 💵 💸 💳 💹 📧 📨 📩 📤 📥 📦
📫 📪 📮 📝 💼 📁 📂 📅 📆 📇 📈 📉
📊 📋 📌 📍 📎 📏 📐 🔒 🔓 🔏 🔐 🔑
🔨 💣 🔧 🔩 🔗 📡 💉 💊 🚪 🚽 🚬 🗿
🏧 🚹 🚺 🚻 🚼 🚾 🚫 🚭 🔞 🔃 🔙 🔚
🔛 🔜 🔝 🔯 🔼 🔽 🎦 📶 📳 📴 💱 💲
🔱 📛 🔰 🔟 🔠 🔡 🔢 🔣 🔤 🆎 🆑 🆒
🆓 🆔 🆕 🆖 🆗 🆘 🆙 🆚 🈁 🈶 🈯 🉐
🈹 🈚 🈲 🉑 🈸 🈴 🈳 🈺 🈵 🔴 🔵 🔶
🔷 🔸 🔹 🔺 🔻 💠 🔘 🔳 🔲 🏁 🚩 🎌
`;

/** The 576 basemoji digits, in digit order. */
export const basemojiDigits: readonly string[] = Object.freeze(TABLE.trim().split(/\s+/));

if (basemojiDigits.length !== 576) {
  throw new Error(`basemoji table has ${basemojiDigits.length} entries, expected 576`);
}

const DIGIT_OF: ReadonlyMap<number, number> = new Map(basemojiDigits.map((d, i) => [d.codePointAt(0)!, i] as const));

/** At most 7 emoji: ceil(log(2^64) / log(576)). */
export const BASEMOJI_MAX_DIGITS = 7;

const MASK64 = (1n << 64n) - 1n;

/** Encode a u64 as basemoji (caller guarantees 0 <= id < 2^64). */
export function basemojiEncode(id: bigint): string {
  if (id === 0n) return basemojiDigits[0]!;
  let out = '';
  if (id <= BigInt(Number.MAX_SAFE_INTEGER)) {
    let v = Number(id);
    while (v > 0) {
      out = basemojiDigits[v % 576]! + out;
      v = Math.floor(v / 576);
    }
    return out;
  }
  let v = id;
  while (v > 0n) {
    out = basemojiDigits[Number(v % 576n)]! + out;
    v /= 576n;
  }
  return out;
}

/** Quick check used by the parser: does s start like a basemoji string (U+1Fxxx)? */
export function looksLikeBasemoji(s: string): boolean {
  const c = s.codePointAt(0);
  return c !== undefined && c >= 0x1f000 && c <= 0x1ffff;
}

/**
 * Decode a basemoji string like uint64_basemoji_decode(): 1..7 table emoji and nothing else
 * (no whitespace); the sum is taken modulo 2^64 as the C uint64_t arithmetic does.
 * Returns null when s is not a valid basemoji string.
 */
export function basemojiDecode(s: string): bigint | null {
  let id = 0n;
  let count = 0;
  for (const ch of s) {
    const d = DIGIT_OF.get(ch.codePointAt(0)!);
    if (d === undefined) return null;
    if (++count > BASEMOJI_MAX_DIGITS) return null;
    id = id * 576n + BigInt(d);
  }
  if (count === 0) return null;
  return id & MASK64;
}
