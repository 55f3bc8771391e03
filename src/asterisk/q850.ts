/** Q.850 hangup causes with the text Asterisk prints for them (ast_cause2str), as AMI `Cause-txt` and ARI `cause_txt` carry it. */
const CAUSE_TEXT: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  3: 'No route to destination',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  20: 'Subscriber absent',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  27: 'Destination out of order',
  28: 'Invalid number format',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  41: 'Temporary failure',
  42: 'Switching equipment congestion',
  58: 'Bearer capability not available',
  127: 'Interworking, unspecified',
};

/** Asterisk's text for a cause; undefined for a cause it has no text for here. */
export function q850Text(cause: number): string | undefined {
  return CAUSE_TEXT[cause];
}
