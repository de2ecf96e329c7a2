/**
 * Screen text, Simplified Chinese first, English second. Every string a tracking screen shows
 * comes from here, so the mini-program and the H5 page say the same things.
 */
import type { Locale, OrderStatus, TemperatureClass } from "./types.ts";

export interface Messages {
  readonly title: string;
  /** The big line at the top of the page, per status. */
  readonly headline: Readonly<Record<OrderStatus, string>>;
  /** Short labels of the timeline milestones. */
  readonly step: {
    readonly placed: string;
    readonly accepted: string;
    readonly preparing: string;
    readonly ready: string;
    readonly assigning: string;
    readonly courierAssigned: string;
    readonly courierAtStore: string;
    readonly delivering: string;
    readonly courierArrived: string;
    readonly atPickupPoint: string;
    readonly delivered: string;
    readonly cancelled: string;
    readonly deliveryFailed: string;
    readonly returned: string;
  };
  /** A wave order at its pickup point: the code the shopper shows there. */
  readonly collectCode: (code: string) => string;
  readonly etaWindow: (from: string, to: string) => string;
  readonly etaAt: (at: string) => string;
  readonly etaMinutes: (minutes: number) => string;
  readonly etaArrivingNow: string;
  readonly etaUnknown: string;
  readonly promisedBy: (at: string) => string;
  readonly deliveredAt: (at: string) => string;
  readonly temperatureClass: Readonly<Record<Exclude<TemperatureClass, "ambient">, string>>;
  readonly temperatureCold: string;
  readonly temperatureInRange: string;
  /** The van reported an excursion (out of range past its grace period). */
  readonly temperatureExcursion: string;
  /** The latest reading is out of range, but the van has not called it an excursion (yet). */
  readonly temperatureOutOfRange: string;
  /** In range again after an excursion this page saw. */
  readonly temperatureRecovered: string;
  readonly temperatureSilent: string;
  readonly temperatureExcursionNote: string;
  /** The same once delivered: the certificate says the rest. */
  readonly temperatureExcursionNoteDelivered: string;
  readonly certificate: {
    readonly title: string;
    readonly loading: string;
    readonly failed: string;
    readonly verdictOk: string;
    readonly verdictExcursion: string;
    readonly verified: string;
    readonly notVerified: string;
    readonly unchecked: string;
    readonly required: (range: string) => string;
    readonly duration: (duration: string) => string;
    readonly span: (min: string, max: string, mean: string) => string;
    readonly readings: (count: number) => string;
    readonly excursions: (count: number, duration: string) => string;
    readonly issued: (at: string) => string;
    readonly open: string;
    readonly copy: string;
    readonly copied: string;
  };
  readonly duration: (hours: number, minutes: number, seconds: number) => string;
  readonly courierApproximate: string;
  readonly courierUpdated: (ago: string) => string;
  readonly secondsAgo: (s: number) => string;
  readonly minutesAgo: (m: number) => string;
  readonly connecting: string;
  readonly reconnecting: string;
  readonly expiredTitle: string;
  readonly expiredReason: (reason: string) => string;
  readonly expiredHint: string;
  readonly destination: string;
  readonly courier: string;
  readonly orderNo: (id: string) => string;
}

const zh: Messages = {
  title: "鲜达 · 订单追踪",
  headline: {
    created: "订单已提交，等待商家接单",
    accepted: "商家已接单",
    preparing: "商家正在备货",
    ready: "商品已备好，正在安排骑手",
    offered: "正在为您安排骑手",
    assigned: "骑手正赶往商家取货",
    at_store: "骑手已到店，正在取货",
    picked_up: "骑手正在配送",
    at_customer: "骑手已到达，请准备收货",
    at_pickup_point: "商品已到自提点，请凭取件码取货",
    delivered: "订单已送达",
    delivery_failed: "配送未完成",
    returned: "订单已退回商家",
    cancelled: "订单已取消",
  },
  step: {
    placed: "已下单",
    accepted: "商家已接单",
    preparing: "备货中",
    ready: "商品已备好",
    assigning: "安排骑手",
    courierAssigned: "骑手已接单",
    courierAtStore: "骑手已到店",
    delivering: "配送中",
    courierArrived: "骑手已到达",
    atPickupPoint: "已到自提点",
    delivered: "已送达",
    cancelled: "已取消",
    deliveryFailed: "配送失败",
    returned: "已退回",
  },
  collectCode: (code) => `取件码 ${code}`,
  etaWindow: (from, to) => `预计 ${from}–${to} 送达`,
  etaAt: (at) => `预计 ${at} 送达`,
  etaMinutes: (m) => `约 ${m} 分钟`,
  etaArrivingNow: "即将送达",
  etaUnknown: "正在计算送达时间",
  promisedBy: (at) => `预计 ${at} 前送达`,
  deliveredAt: (at) => `已于 ${at} 送达`,
  temperatureClass: { chilled: "冷藏", frozen: "冷冻" },
  temperatureCold: "冷链",
  temperatureInRange: "温度正常",
  temperatureExcursion: "温度异常",
  temperatureOutOfRange: "超出范围",
  temperatureRecovered: "已恢复正常",
  temperatureSilent: "温度数据中断",
  temperatureExcursionNote: "配送途中曾出现温度异常，送达后可查看冷链温度证书",
  temperatureExcursionNoteDelivered: "配送途中曾出现温度异常，详见冷链温度证书",
  certificate: {
    title: "冷链温度证书",
    loading: "正在生成冷链温度证书…",
    failed: "证书暂时无法获取，请稍后刷新页面",
    verdictOk: "全程温度达标",
    verdictExcursion: "途中出现温度异常",
    verified: "✓ 签名有效，与系统保存的温度记录一致",
    notVerified: "✗ 核验未通过：证书与系统当前保存的温度记录不符",
    unchecked: "未能核验签名",
    required: (range) => `要求温度 ${range}`,
    duration: (d) => `装车至送达 ${d}`,
    span: (min, max, mean) => `实测 ${min} 至 ${max}，平均 ${mean}`,
    readings: (n) => `温度记录 ${n} 条`,
    excursions: (n, d) => `超温 ${n} 次，共 ${d}`,
    issued: (at) => `签发于 ${at}（北京时间）`,
    open: "查看 / 打印完整证书",
    copy: "复制证书链接",
    copied: "链接已复制，可在浏览器中打开",
  },
  duration: (h, m, sec) =>
    h > 0 ? `${h} 小时 ${m} 分钟` : m > 0 ? `${m} 分 ${sec} 秒` : sec > 0 ? `${sec} 秒` : "<1 秒",
  courierApproximate: "骑手取货前仅显示大致位置",
  courierUpdated: (ago) => `位置更新于${ago}`,
  secondsAgo: (s) => (s < 5 ? "刚刚" : `${s} 秒前`),
  minutesAgo: (m) => `${m} 分钟前`,
  connecting: "正在连接…",
  reconnecting: "网络不稳定，正在重新连接…",
  expiredTitle: "链接已失效",
  expiredReason: (reason) => EXPIRED_REASONS_ZH[reason] ?? "此追踪链接已过期或无效",
  expiredHint: "请在鲜达小程序的订单详情中查看最新状态",
  destination: "收货地址",
  courier: "骑手",
  orderNo: (id) => `订单 ${id}`,
};

const EXPIRED_REASONS_ZH: Readonly<Record<string, string>> = {
  token_expired: "订单已完成，追踪链接已过期",
  tracking_expired: "订单已完成，追踪链接已过期",
  missing_token: "此追踪链接无效",
  expired: "订单已完成，追踪链接已过期",
  delivered: "订单已送达，追踪链接已过期",
  forbidden: "此链接无权查看该订单",
  wrong_order: "此链接无权查看该订单",
  invalid_token: "此追踪链接无效",
  unauthorized: "此追踪链接无效",
};

const EXPIRED_REASONS_EN: Readonly<Record<string, string>> = {
  token_expired: "The order is complete and this tracking link has expired",
  tracking_expired: "The order is complete and this tracking link has expired",
  missing_token: "This tracking link is not valid",
  expired: "The order is complete and this tracking link has expired",
  delivered: "The order was delivered and this tracking link has expired",
  forbidden: "This link cannot show that order",
  wrong_order: "This link cannot show that order",
  invalid_token: "This tracking link is not valid",
  unauthorized: "This tracking link is not valid",
};

const en: Messages = {
  title: "Xianda · Order tracking",
  headline: {
    created: "Order placed, waiting for the store",
    accepted: "The store accepted your order",
    preparing: "The store is preparing your order",
    ready: "Your order is ready, finding a courier",
    offered: "Finding a courier for you",
    assigned: "The courier is on the way to the store",
    at_store: "The courier is at the store",
    picked_up: "The courier is on the way to you",
    at_customer: "The courier has arrived",
    at_pickup_point: "Your goods are at the pickup point: show your pickup code",
    delivered: "Delivered",
    delivery_failed: "Delivery not completed",
    returned: "Returned to the store",
    cancelled: "Order cancelled",
  },
  step: {
    placed: "Placed",
    accepted: "Accepted",
    preparing: "Preparing",
    ready: "Ready",
    assigning: "Finding a courier",
    courierAssigned: "Courier assigned",
    courierAtStore: "Courier at store",
    delivering: "On the way",
    courierArrived: "Courier arrived",
    atPickupPoint: "At the pickup point",
    delivered: "Delivered",
    cancelled: "Cancelled",
    deliveryFailed: "Delivery failed",
    returned: "Returned",
  },
  collectCode: (code) => `Pickup code ${code}`,
  etaWindow: (from, to) => `Arriving ${from}–${to}`,
  etaAt: (at) => `Arriving at ${at}`,
  etaMinutes: (m) => `about ${m} min`,
  etaArrivingNow: "Arriving now",
  etaUnknown: "Working out the arrival time",
  promisedBy: (at) => `Arriving by ${at}`,
  deliveredAt: (at) => `Delivered at ${at}`,
  temperatureClass: { chilled: "Chilled", frozen: "Frozen" },
  temperatureCold: "Cold chain",
  temperatureInRange: "in range",
  temperatureExcursion: "temperature excursion",
  temperatureOutOfRange: "out of range",
  temperatureRecovered: "back in range",
  temperatureSilent: "no temperature data",
  temperatureExcursionNote:
    "The temperature went out of range on the way; the cold-chain certificate will show it after delivery",
  temperatureExcursionNoteDelivered:
    "The temperature went out of range on the way; see the cold-chain certificate",
  certificate: {
    title: "Cold-chain certificate",
    loading: "Issuing the cold-chain certificate…",
    failed: "The certificate cannot be fetched now; reload the page later",
    verdictOk: "In range all the way",
    verdictExcursion: "Temperature excursion on the way",
    verified: "✓ Signature valid; matches the stored temperature records",
    notVerified: "✗ Not verified: the certificate no longer matches the stored temperature records",
    unchecked: "Signature not checked",
    required: (range) => `Required ${range}`,
    duration: (d) => `Loaded to delivered: ${d}`,
    span: (min, max, mean) => `Measured ${min} to ${max}, mean ${mean}`,
    readings: (n) => `${n} temperature reading${n === 1 ? "" : "s"}`,
    excursions: (n, d) => `${n} excursion${n === 1 ? "" : "s"}, ${d} in all`,
    issued: (at) => `Issued at ${at} (Beijing time)`,
    open: "View / print the full certificate",
    copy: "Copy the certificate link",
    copied: "Link copied: open it in a browser",
  },
  duration: (h, m, sec) =>
    h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : sec > 0 ? `${sec} s` : "<1 s",
  courierApproximate: "Approximate position until pickup",
  courierUpdated: (ago) => `Position updated ${ago}`,
  secondsAgo: (s) => (s < 5 ? "just now" : `${s} s ago`),
  minutesAgo: (m) => `${m} min ago`,
  connecting: "Connecting…",
  reconnecting: "Connection unstable, reconnecting…",
  expiredTitle: "Link expired",
  expiredReason: (reason) =>
    EXPIRED_REASONS_EN[reason] ?? "This tracking link has expired or is not valid",
  expiredHint: "Open the order in the Xianda mini-program for its latest status",
  destination: "Delivery address",
  courier: "Courier",
  orderNo: (id) => `Order ${id}`,
};

const MESSAGES: Readonly<Record<Locale, Messages>> = { "zh-CN": zh, en };

export function messages(locale: Locale): Messages {
  return MESSAGES[locale];
}

/** zh-CN unless the device or the link asks for English. */
export function pickLocale(language: string | null | undefined): Locale {
  return language && /^en\b/i.test(language) ? "en" : "zh-CN";
}
