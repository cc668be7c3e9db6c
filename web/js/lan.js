// What on the live stream is news about LAN devices: an alert of a LAN rule (ids start
// with `lan-`) or one of the LAN discovery events. Shared by the Devices page and the
// Overview's device counts; knows nothing about either.

export const LAN_EVENT_TYPES = new Set(['NEW_DEVICE', 'DEVICE_JOINED', 'DEVICE_LEFT', 'DEVICE_IP_CHANGED', 'DEVICE_MAC_CHANGED']);

export const isLanAlert = (a) => !!a && typeof a.rule === 'string' && a.rule.startsWith('lan-');
export const isLanEvent = (e) => !!e && LAN_EVENT_TYPES.has(e.type);
