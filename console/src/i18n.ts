/**
 * The console's words, Simplified Chinese first and English second; times on Beijing time
 * (Asia/Shanghai), which is the time dispatchers and couriers agree on.
 */
import type { Age, CourierStatus } from "./fleet.ts";

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
