import { describe, expect, it } from 'vitest';

import { codeBlocks, commandsOf, readme, walkthroughBlocks, walkthroughEnv } from './support/readme.js';

/** The words of a shell command, honouring single and double quotes (enough for the README's curl lines). */
function words(command: string): string[] {
  const found: string[] = [];
  const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(command))) {
    found.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return found;
}

describe('the README commands', () => {
  const markdown = readme();
  const shellBlocks = codeBlocks(markdown).filter((b) => ['bash', 'sh'].includes(b.lang));

  it('never hand curl a URL it would glob ({…} or […] without -g / -G --data-urlencode)', () => {
    const problems: string[] = [];
    for (const block of shellBlocks) {
      for (const { line, command } of commandsOf(block)) {
        // Each curl of a pipeline or command substitution on its own.
        for (const segment of command.split(/\$\(|\||;|&&/)) {
          const args = words(segment.trim());
          if (args[0] !== 'curl') {
            continue;
          }
          if (args.includes('-g') || args.includes('--globoff')) {
            continue;
          }
          for (const arg of args.slice(1)) {
            const url = /^(https?:\/\/|\$HUB|\$\{HUB\})/.test(arg);
            if (url && /[{}[\]]/.test(arg.replace(/\$\{\w+\}/g, ''))) {
              problems.push(`README.md:${line}: curl would glob ${arg}`);
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('mark a .env block and walkthrough blocks that define HUB and TOKEN before using them', () => {
    const env = walkthroughEnv(markdown);
    expect(env).toMatchObject({
      ADMIN_USERNAME: expect.any(String),
      ADMIN_PASSWORD: expect.any(String),
      DEMO_DATA: 'true',
    });
    const blocks = walkthroughBlocks(markdown);
    expect(blocks.length).toBeGreaterThan(5);
    expect(blocks[0]?.code).toMatch(/^HUB=http:\/\/127\.0\.0\.1:8000$/m);
    expect(blocks[0]?.code).toMatch(/^TOKEN=\$\(/m);
  });
});
