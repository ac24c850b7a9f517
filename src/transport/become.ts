// `become: true` for a login user other than root: run the command through sudo without a prompt.
import { shellQuote } from '../shell/quote.js';

/** True when a command must go through sudo: become was asked for and the login user is not root. */
export function needsSudo(loginUser: string, become: boolean | undefined): boolean {
  return become === true && loginUser !== 'root';
}

/** `sudo -n` fails at once instead of waiting for a password nobody will type. */
export function wrapWithSudo(command: string): string {
  return `sudo -n -- sh -c ${shellQuote(command)}`;
}
