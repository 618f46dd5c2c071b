import { isValidIdNumber } from '../tools/sandbox/id-number.js';

/**
 * Account numbers in a citizen's message ("换成这张：6222 0213 4567 8899"): taken out before
 * understanding and replaced by ACCOUNTREF1, ACCOUNTREF2…, so neither the NLU engine nor a
 * model ever sees the digits; the graph gets them from the run context when it applies an
 * edit. ID numbers are left in place (they are masked, and refused, elsewhere).
 */
const ACCOUNT_RUN = /(?<![0-9])(?:[0-9][ -]?){11,29}[0-9](?![0-9])/g;

export function splitAccounts(text: string): { accounts: string[]; text: string } {
  const accounts: string[] = [];
  const out = text.normalize('NFKC').replace(ACCOUNT_RUN, (m) => {
    const digits = m.replace(/[ -]/g, '');
    if (digits.length < 12 || digits.length > 30 || isValidIdNumber(digits) || /^1[3-9][0-9]{9}$/.test(digits)) return m;
    accounts.push(digits);
    return ` ACCOUNTREF${accounts.length} `;
  });
  return { accounts, text: out };
}
