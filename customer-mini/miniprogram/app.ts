import { GATEWAY_ORIGIN } from "./config.ts";

App({
  globalData: { gatewayOrigin: GATEWAY_ORIGIN },
});
