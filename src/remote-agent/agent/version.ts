/** The agent's own version, reported in hello frames (kept equal to package.json by a test). */
export const AGENT_VERSION = '0.1.0';
