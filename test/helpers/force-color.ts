/**
 * Imported first by tests that check colours: chalk (under Ink) picks its colour level once, when it
 * is loaded, and a test's stdout is no terminal.
 */
process.env.FORCE_COLOR = '1';
