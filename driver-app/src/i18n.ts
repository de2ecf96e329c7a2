/**
 * The driver app's words, Simplified Chinese first and English second. Times are shown in
 * Asia/Shanghai whatever the phone's own zone, as couriers and dispatchers speak of the same clock.
 */
export type Lang = "zh" | "en";

const zh = {
  "app.title": "鲜达骑手",
  "lang.toggle": "EN",
  "login.title": "骑手登录",
  "login.hint": "打开调度发给你的登录链接，或把登录令牌粘贴到下面。",
  "login.placeholder": "登录令牌（eyJ…）",
  "login.submit": "登录",
  "login.malformed": "令牌格式不正确，请检查是否复制完整",
  "login.wrong_role": "这不是骑手令牌",
  "login.expired": "令牌已过期，请向调度重新获取",
  logout: "退出",
  "who.courier": "骑手",
  "who.market": "区域",
  "shift.start": "上班",
  "shift.end": "下班",
  "shift.on": "上班中 · 正在上报位置",
  "shift.off": "未上班",
  "shift.pending": "提交中…",
  "shift.already_on": "已在上班状态",
  "shift.already_off": "已是下班状态",
  "conn.label": "连接",
  "conn.connecting": "连接中…",
  "conn.open": "已连接",
  "conn.waiting": "已断开，{seconds} 秒后重连",
  "conn.unauthorized": "登录已失效，请重新登录",
  "conn.stopped": "未连接",
  "gps.label": "定位",
  "gps.idle": "上班后开始定位",
  "gps.waiting": "正在获取位置…",
  "gps.ok": "正常",
  "gps.denied": "未允许定位，请在浏览器设置中开启",
  "gps.unavailable": "暂时无法获取位置",
  "gps.timeout": "定位超时，正在重试",
  "gps.unsupported": "此浏览器不支持定位",
  "stats.position": "当前位置",
  "stats.accuracy": "精度",
  "stats.metres": "±{value} 米",
  "stats.fixTime": "定位时间",
  "stats.accepted": "已接收",
  "stats.rejected": "被拒绝",
  "stats.queued": "离线待发",
  "stats.lastRejection": "最近拒绝原因：{reason}",
  "stats.dropped": "离线过久，已丢弃最早的 {count} 个定位点",
  "channel.title": "我的消息",
  "channel.empty": "暂无消息，新的派单会显示在这里",
  "channel.courier": "位置已同步到调度台",
  "channel.status": "订单 {order}：{status}",
  "channel.eta": "订单 {order} 预计 {time} 送达",
  "channel.temperature": "{compartment} 温度 {celsius}°C",
  "channel.couriers": "区域骑手位置更新",
  "map.me": "我的位置",
  "refusal.invalid_transition": "当前状态不允许此操作",
  "refusal.not_on_shift": "当前未上班",
  "refusal.has_active_jobs": "还有未完成的订单，暂不能下班",
  "refusal.forbidden": "没有权限执行此操作",
  "refusal.unauthorized": "登录已失效，请重新登录",
  "refusal.network_error": "网络异常，请稍后重试",
  "refusal.invalid_location": "位置数据无效",
  "refusal.vehicle_unsuitable": "车辆不符合要求",
  "refusal.invalid_message": "请求格式有误",
  "refusal.invalid_body": "请求格式有误",
  "refusal.rate_limited": "操作太频繁，请稍后再试",
  "refusal.internal_error": "服务器繁忙，请稍后重试",
  "refusal.unknown": "操作被拒绝（{code}）",
  "reject.stale": "定位时间过旧",
  "reject.future": "定位时间超前",
  "reject.jump": "位置跳变过大",
  "reject.invalid": "位置数据无效",
  "reject.order": "定位顺序错乱",
  "reject.accuracy": "定位精度太低",
  "refusal.timeout": "已提交，等待系统确认",
  "refusal.internal": "服务器繁忙，请稍后重试",
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  "app.title": "Xianda Courier",
  "lang.toggle": "中文",
  "login.title": "Courier sign-in",
  "login.hint": "Open the sign-in link your dispatcher sent you, or paste the token below.",
  "login.placeholder": "Sign-in token (eyJ…)",
  "login.submit": "Sign in",
  "login.malformed": "This token is not valid; check it was copied whole",
  "login.wrong_role": "This is not a courier token",
  "login.expired": "This token has expired; ask your dispatcher for a new one",
  logout: "Sign out",
  "who.courier": "Courier",
  "who.market": "Market",
  "shift.start": "Start shift",
  "shift.end": "End shift",
  "shift.on": "On shift · sharing location",
  "shift.off": "Off shift",
  "shift.pending": "Sending…",
  "shift.already_on": "Already on shift",
  "shift.already_off": "Already off shift",
  "conn.label": "Link",
  "conn.connecting": "Connecting…",
  "conn.open": "Connected",
  "conn.waiting": "Disconnected, retrying in {seconds}s",
  "conn.unauthorized": "Session expired, please sign in again",
  "conn.stopped": "Not connected",
  "gps.label": "GPS",
  "gps.idle": "Starts when your shift starts",
  "gps.waiting": "Getting your position…",
  "gps.ok": "OK",
  "gps.denied": "Location not allowed; enable it in the browser settings",
  "gps.unavailable": "Position unavailable",
  "gps.timeout": "GPS timed out, retrying",
  "gps.unsupported": "This browser has no geolocation",
  "stats.position": "Position",
  "stats.accuracy": "Accuracy",
  "stats.metres": "±{value} m",
  "stats.fixTime": "Fix time",
  "stats.accepted": "Accepted",
  "stats.rejected": "Rejected",
  "stats.queued": "Queued offline",
  "stats.lastRejection": "Last rejection: {reason}",
  "stats.dropped": "Offline too long: dropped the {count} oldest fixes",
  "channel.title": "My messages",
  "channel.empty": "No messages yet; new offers will show here",
  "channel.courier": "Position shared with dispatch",
  "channel.status": "Order {order}: {status}",
  "channel.eta": "Order {order} due at {time}",
  "channel.temperature": "{compartment} at {celsius}°C",
  "channel.couriers": "Market courier positions updated",
  "map.me": "My position",
  "refusal.invalid_transition": "Not allowed in the current state",
  "refusal.not_on_shift": "You are not on shift",
  "refusal.has_active_jobs": "You still have unfinished orders",
  "refusal.forbidden": "Not allowed",
  "refusal.unauthorized": "Session expired, please sign in again",
  "refusal.network_error": "Network problem, try again shortly",
  "refusal.invalid_location": "Invalid position",
  "refusal.vehicle_unsuitable": "Vehicle not suitable",
  "refusal.invalid_message": "Malformed request",
  "refusal.invalid_body": "Malformed request",
  "refusal.rate_limited": "Too many requests, try again shortly",
  "refusal.internal_error": "Server busy, try again shortly",
  "refusal.unknown": "Refused ({code})",
  "reject.stale": "Fix too old",
  "reject.future": "Fix time in the future",
  "reject.jump": "Impossible jump",
  "reject.invalid": "Invalid position",
  "reject.order": "Fix out of order",
  "reject.accuracy": "Accuracy too low",
  "refusal.timeout": "Sent; waiting for confirmation",
  "refusal.internal": "Server busy, try again shortly",
};

const dictionaries: Record<Lang, Record<MessageKey, string>> = { zh, en };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const dictionary = dictionaries[lang];
  return (key, vars) =>
    dictionary[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      vars !== undefined && name in vars ? String(vars[name]) : whole,
    );
}

/** A refusal code from the gateway in the courier's words (unknown codes shown as they are). */
export function refusalText(t: Translate, code: string): string {
  const key = `refusal.${code}`;
  return key in zh ? t(key as MessageKey) : t("refusal.unknown", { code });
}

const REJECTIONS: Record<string, MessageKey> = {
  not_finite: "reject.invalid",
  out_of_range: "reject.invalid",
  future: "reject.future",
  stale: "reject.stale",
  out_of_order: "reject.order",
  impossible_jump: "reject.jump",
  low_accuracy: "reject.accuracy",
};

/** Why the gateway's fix filter rejected a fix (its codes; unknown ones shown as they are). */
export function rejectionText(t: Translate, code: string): string {
  const key = REJECTIONS[code];
  return key === undefined ? code : t(key);
}

const timeFormats = new Map<Lang, Intl.DateTimeFormat>();

/** HH:mm:ss in Asia/Shanghai. */
export function clockTime(lang: Lang, ms: number): string {
  let format = timeFormats.get(lang);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: "Asia/Shanghai",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });
    timeFormats.set(lang, format);
  }
  return format.format(ms);
}

/** Chinese unless the user chose English with the toggle (the phone's locale is not asked). */
export function preferredLang(stored: string | null): Lang {
  return stored === "en" ? "en" : "zh";
}
