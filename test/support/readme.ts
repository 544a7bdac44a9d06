import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import dotenv from 'dotenv';

import { ROOT } from './process.js';

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** The marker comment right before the fence, if any (`walkthrough`, `walkthrough-env`). */
  readonly marker?: string;
}

export function readme(): string {
  return readFileSync(join(ROOT, 'README.md'), 'utf8');
}

/** Every fenced block of a Markdown text, with the `<!-- marker -->` comment that precedes it. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let marker: string | undefined;
  for (let i = 0; i < lines.length; i += 1) {
    const text = lines[i] ?? '';
    const comment = /^<!--\s*([\w-]+)\s*-->$/.exec(text);
    if (comment) {
      marker = comment[1];
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(text);
    if (!fence) {
      if (text.trim() !== '') {
        marker = undefined;
      }
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i += 1) {
      body.push(lines[i] ?? '');
    }
    blocks.push({
      line: start + 1,
      lang: fence[1] ?? '',
      code: body.join('\n'),
      ...(marker ? { marker } : {}),
    });
    marker = undefined;
  }
  return blocks;
}

/** The settings the README tells a newcomer to put in `.env` (the block marked `walkthrough-env`). */
export function walkthroughEnv(markdown: string): Record<string, string> {
  const blocks = codeBlocks(markdown).filter((b) => b.marker === 'walkthrough-env');
  if (blocks.length !== 1) {
    throw new Error(
      `README.md should mark exactly one .env block with <!-- walkthrough-env --> (found ${blocks.length})`,
    );
  }
  return dotenv.parse(blocks[0]?.code ?? '');
}

/** The blocks marked `walkthrough`, in document order: one shell session, pasted top to bottom. */
export function walkthroughBlocks(markdown: string): CodeBlock[] {
  return codeBlocks(markdown).filter((b) => b.marker === 'walkthrough');
}

/**
 * Shell commands of a block, with backslash continuations joined and comments dropped, each with the
 * line it starts on.
 */
export function commandsOf(block: CodeBlock): { line: number; command: string }[] {
  const commands: { line: number; command: string }[] = [];
  let current: { line: number; command: string } | undefined;
  block.code.split('\n').forEach((text, index) => {
    const line = block.line + 1 + index;
    if (!current && (text.trim() === '' || text.trim().startsWith('#'))) {
      return;
    }
    const continued = text.endsWith('\\');
    const part = continued ? text.slice(0, -1) : text;
    current = current
      ? { ...current, command: `${current.command} ${part.trim()}` }
      : { line, command: part };
    if (!continued) {
      commands.push(current);
      current = undefined;
    }
  });
  return commands;
}
