/**
 * The OSC 52 sequence that puts text on the terminal's clipboard (xterm "Manipulate Selection
 * Data": ESC ] 52 ; c ; base64 BEL). Base64 carries any text, so nothing from traffic reaches the
 * terminal as it is.
 */
export function osc52Sequence(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}
