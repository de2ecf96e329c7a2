/**
 * The console's words, Simplified Chinese first and English second; times on Beijing time
 * (Asia/Shanghai), which is the time dispatchers and couriers agree on.
 */
import type { Age, CourierStatus } from "./fleet.ts";
import type { OrderStatus } from "./orders.ts";

export type Lang = "zh" | "en";

const zh = {
  "app.title": "鲜达调度台",
  "lang.toggle": "EN",
  "login.title": "调度员登录",
  "login.hint": "打开系统发给你的登录链接，或把调度员令牌粘贴到下面。",
  "login.placeholder": "调度员令牌（eyJ…）",
  "login.submit": "登录",
  "login.malformed": "令牌格式不正确，请检查是否复制完整",
  "login.wrong_role": "这不是调度员令牌",
  "login.expired": "令牌已过期，请重新获取",
  logout: "退出",
  market: "区域",
  clock: "北京时间",
  "conn.connecting": "连接中…",
  "conn.open": "实时连接正常",
  "conn.waiting": "已断开，{seconds} 秒后重连",
  "conn.unauthorized": "登录已失效，请重新登录",
  "conn.stopped": "未连接",
  "summary.active": "在线骑手",
  "summary.busy": "配送中",
  "summary.idle": "空闲",
  "summary.alerts": "告警",
  "summary.couriers": "骑手",
  "summary.orders": "订单",
  "summary.waiting": "待派单",
  "summary.delivering": "在途",
  "summary.late": "超时",
  "summary.delivered": "已送达",
  "orders.title": "进行中订单",
  "orders.empty": "暂无进行中的订单。新订单会实时出现在这里。",
  "orders.late": "超时",
  "orders.due": "{time} 前送达",
  "orders.left": "剩 {value} 分钟",
  "orders.over": "已超 {value} 分钟",
  "orders.noCourier": "待派骑手",
  "orders.courier": "骑手 {id}",
  "orders.noPromise": "未约定送达时间",
  "orders.locate": "在地图上查看取货点",
  "order.created": "新订单",
  "order.accepted": "商家已接单",
  "order.preparing": "备货中",
  "order.ready": "待取货",
  "order.offered": "派单中",
  "order.assigned": "骑手已接单",
  "order.at_store": "骑手到店",
  "order.picked_up": "已取货",
  "order.at_customer": "骑手已到达",
  "order.delivery_failed": "配送失败",
  "order.delivered": "已送达",
  "order.returned": "已退回",
  "order.cancelled": "已取消",
  "order.unknown": "处理中",
  "temp.chilled": "冷藏",
  "temp.frozen": "冷冻",
  "store.title": "门店 {id} · {waiting} 单待取货",
  "layer.both": "全部",
  "layer.supply": "运力",
  "layer.demand": "需求",
  "layer.balance": "供需差",
  "legend.demand": "需求分布（待取货订单，按门店）",
  "legend.orderOne": "1 单",
  "legend.orderTwo": "2 单",
  "legend.orderThree": "3–4 单",
  "legend.orderFive": "5 单以上",
  "legend.balance": "供需差（空闲骑手 − 待派订单）",
  "legend.short": "缺骑手",
  "legend.even": "持平",
  "legend.spare": "有富余",
  "legend.store": "门店",
  "couriers.title": "骑手",
  "couriers.empty": "暂无骑手位置。骑手上班并开始定位后会显示在这里。",
  "couriers.locate": "在地图上查看",
  "status.idle": "空闲",
  "status.offered": "待接单",
  "status.busy": "配送中",
  "status.offline": "已下班",
  "status.unknown": "在线",
  "age.now": "刚刚",
  "age.seconds": "{value} 秒前",
  "age.minutes": "{value} 分钟前",
  "age.hours": "{value} 小时前",
  "age.days": "{value} 天前",
  "alerts.title": "告警",
  "alerts.empty": "暂无告警",
  "severity.info": "提示",
  "severity.warning": "警告",
  "severity.critical": "严重",
  "vans.title": "冷链车",
  "vans.inRange": "温度正常",
  "vans.outOfRange": "温度超标",
  "legend.title": "运力分布（H3 8 级网格）",
  "legend.one": "1 人",
  "legend.two": "2 人",
  "legend.three": "3–4 人",
  "legend.five": "5 人以上",
  "map.schematic": "示意底图",
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  "app.title": "Xianda Dispatch",
  "lang.toggle": "中文",
  "login.title": "Dispatcher sign-in",
  "login.hint": "Open the sign-in link you were sent, or paste a dispatcher token below.",
  "login.placeholder": "Dispatcher token (eyJ…)",
  "login.submit": "Sign in",
  "login.malformed": "This token is not valid; check it was copied whole",
  "login.wrong_role": "This is not a dispatcher token",
  "login.expired": "This token has expired",
  logout: "Sign out",
  market: "Market",
  clock: "Beijing time",
  "conn.connecting": "Connecting…",
  "conn.open": "Live",
  "conn.waiting": "Disconnected, retrying in {seconds}s",
  "conn.unauthorized": "Session expired, please sign in again",
  "conn.stopped": "Not connected",
  "summary.active": "Online",
  "summary.busy": "Delivering",
  "summary.idle": "Idle",
  "summary.alerts": "Alerts",
  "summary.couriers": "Couriers",
  "summary.orders": "Orders",
  "summary.waiting": "To dispatch",
  "summary.delivering": "En route",
  "summary.late": "Late",
  "summary.delivered": "Delivered",
  "orders.title": "Open orders",
  "orders.empty": "No open orders. New orders appear here live.",
  "orders.late": "Late",
  "orders.due": "due {time}",
  "orders.left": "{value} min left",
  "orders.over": "{value} min over",
  "orders.noCourier": "No courier yet",
  "orders.courier": "Courier {id}",
  "orders.noPromise": "No promised time",
  "orders.locate": "Show pickup on map",
  "order.created": "New",
  "order.accepted": "Accepted",
  "order.preparing": "Preparing",
  "order.ready": "Ready",
  "order.offered": "Offering",
  "order.assigned": "Assigned",
  "order.at_store": "At store",
  "order.picked_up": "Picked up",
  "order.at_customer": "At customer",
  "order.delivery_failed": "Delivery failed",
  "order.delivered": "Delivered",
  "order.returned": "Returned",
  "order.cancelled": "Cancelled",
  "order.unknown": "In progress",
  "temp.chilled": "Chilled",
  "temp.frozen": "Frozen",
  "store.title": "Store {id} · {waiting} awaiting pickup",
  "layer.both": "All",
  "layer.supply": "Supply",
  "layer.demand": "Demand",
  "layer.balance": "Balance",
  "legend.demand": "Demand (orders awaiting pickup, at the store)",
  "legend.orderOne": "1",
  "legend.orderTwo": "2",
  "legend.orderThree": "3–4",
  "legend.orderFive": "5+",
  "legend.balance": "Balance (idle couriers − unassigned orders)",
  "legend.short": "Short",
  "legend.even": "Even",
  "legend.spare": "Spare",
  "legend.store": "Store",
  "couriers.title": "Couriers",
  "couriers.empty": "No courier positions yet. Couriers appear once they start a shift.",
  "couriers.locate": "Show on map",
  "status.idle": "Idle",
  "status.offered": "Offer pending",
  "status.busy": "Delivering",
  "status.offline": "Off shift",
  "status.unknown": "Online",
  "age.now": "just now",
  "age.seconds": "{value}s ago",
  "age.minutes": "{value} min ago",
  "age.hours": "{value} h ago",
  "age.days": "{value} d ago",
  "alerts.title": "Alerts",
  "alerts.empty": "No alerts",
  "severity.info": "Info",
  "severity.warning": "Warning",
  "severity.critical": "Critical",
  "vans.title": "Refrigerated vans",
  "vans.inRange": "In range",
  "vans.outOfRange": "Out of range",
  "legend.title": "Courier supply (H3 res 8)",
  "legend.one": "1",
  "legend.two": "2",
  "legend.three": "3–4",
  "legend.five": "5+",
  "map.schematic": "Schematic map",
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

export function statusText(t: Translate, status: CourierStatus): string {
  return t(`status.${status}`);
}

export function orderStatusText(t: Translate, status: OrderStatus): string {
  return t(`order.${status}`);
}

export function ageText(t: Translate, age: Age): string {
  return age.unit === "now" ? t("age.now") : t(`age.${age.unit}`, { value: age.value });
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(lang: Lang, withDate: boolean): Intl.DateTimeFormat {
  const key = `${lang}:${withDate}`;
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: "Asia/Shanghai",
      ...(withDate ? { month: "2-digit", day: "2-digit" } : {}),
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hour12: false,
    });
    formats.set(key, f);
  }
  return f;
}

/** HH:mm on Beijing time (promised times: seconds would be noise). */
export function shortTime(lang: Lang, ms: number): string {
  return format(lang, false).format(ms).slice(0, 5);
}

/** HH:mm:ss on Beijing time. */
export function clockTime(lang: Lang, ms: number): string {
  return format(lang, false).format(ms);
}

/** MM/DD HH:mm:ss on Beijing time. */
export function dateTime(lang: Lang, ms: number): string {
  return format(lang, true).format(ms);
}

export function preferredLang(stored: string | null): Lang {
  return stored === "en" ? "en" : "zh";
}
