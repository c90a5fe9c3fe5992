/**
 * LINKTYPE_* values (tcpdump.org/linktypes.html) that the decoder understands, and printable names
 * for error messages. The names of a few common unsupported types are kept so that an error can say
 * "LINKTYPE_IEEE802_11 (105)" instead of a bare number.
 */

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as numbered by some BSDs (OpenBSD/BSD/OS); the pcap LINKTYPE value is 101. */
  RAW_BSD_12: 12,
  RAW_BSD_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export type SupportedLinkType = (typeof LINKTYPE)[keyof typeof LINKTYPE];

const NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [0, 'LINKTYPE_NULL'],
  [1, 'LINKTYPE_ETHERNET'],
  [6, 'LINKTYPE_IEEE802_5'],
  [8, 'LINKTYPE_SLIP'],
  [9, 'LINKTYPE_PPP'],
  [10, 'LINKTYPE_FDDI'],
  [12, 'LINKTYPE_RAW'],
  [14, 'LINKTYPE_RAW'],
  [50, 'LINKTYPE_PPP_HDLC'],
  [51, 'LINKTYPE_PPP_ETHER'],
  [101, 'LINKTYPE_RAW'],
  [104, 'LINKTYPE_C_HDLC'],
  [105, 'LINKTYPE_IEEE802_11'],
  [108, 'LINKTYPE_LOOP'],
  [113, 'LINKTYPE_LINUX_SLL'],
  [127, 'LINKTYPE_IEEE802_11_RADIOTAP'],
  [147, 'LINKTYPE_USER0'],
  [189, 'LINKTYPE_USB_LINUX'],
  [192, 'LINKTYPE_PPI'],
  [195, 'LINKTYPE_IEEE802_15_4_WITHFCS'],
  [201, 'LINKTYPE_BLUETOOTH_HCI_H4_WITH_PHDR'],
  [220, 'LINKTYPE_USB_LINUX_MMAPPED'],
  [228, 'LINKTYPE_IPV4'],
  [229, 'LINKTYPE_IPV6'],
  [239, 'LINKTYPE_NFLOG'],
  [249, 'LINKTYPE_USBPCAP'],
  [252, 'LINKTYPE_WIRESHARK_UPPER_PDU'],
  [276, 'LINKTYPE_LINUX_SLL2'],
]);

export function isSupportedLinkType(linkType: number): boolean {
  switch (linkType) {
    case LINKTYPE.NULL:
    case LINKTYPE.ETHERNET:
    case LINKTYPE.RAW_BSD_12:
    case LINKTYPE.RAW_BSD_14:
    case LINKTYPE.RAW:
    case LINKTYPE.LOOP:
    case LINKTYPE.LINUX_SLL:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case LINKTYPE.LINUX_SLL2:
      return true;
    default:
      return false;
  }
}

/** 'LINKTYPE_ETHERNET' for 1; 'LINKTYPE_<n>' for a number we have no name for. */
export function linkTypeName(linkType: number): string {
  return NAMES.get(linkType) ?? `LINKTYPE_${linkType}`;
}
