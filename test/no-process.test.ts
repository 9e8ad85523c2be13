// nlkit must never start a process (no `ip`, no `nft`, no shell): everything goes over netlink
// sockets and namespace syscalls. This scans the sources under lib/ and native/ and the dynamic
// symbols the built addon imports.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..');
const SOURCE_EXT = /\.(ts|mts|cts|js|mjs|cjs|c|cc|cpp|cxx|h|hh|hpp|hxx|inl)$/;

const FORBIDDEN: [string, RegExp][] = [
  ['child_process module', /\bchild_process\b/],
  ['spawn_sync binding', /\bspawn_sync\b/],
  ['process-spawning npm packages', /\b(execa|shelljs|cross-spawn)\b/],
  ['Node spawn/exec/fork calls', /(?<![.\w])(spawn|spawnSync|exec|execSync|execFile|execFileSync|fork)\s*\(/],
  ['libc process creation', /(?<![.\w>])(fork|vfork|popen|system|execv|execve|execvp|execvpe|execveat|execl|execlp|execle|fexecve|posix_spawn|posix_spawnp|clone|clone3|daemon)\s*\(/],
  ['raw process syscalls', /\b(SYS|__NR)_(clone|clone3|fork|vfork|execve|execveat)\b/],
  ['shell or tool paths', /\/bin\/(ba)?sh\b|\/s?bin\/ip\b|\/s?bin\/nft\b|\/usr\/s?bin\//],
];

/** Removes // and /* *\/ comments (good enough for these sources: no '//' inside strings). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1');
}

function findProcessStarts(src: string): string[] {
  const code = stripComments(src);
  return FORBIDDEN.filter(([, re]) => re.test(code)).map(([what]) => what);
}

function walk(dir: string, keep: (name: string) => boolean = (n) => SOURCE_EXT.test(n)): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...walk(p, keep));
    else if (keep(entry)) out.push(p);
  }
  return out;
}

/** libc functions that start a process (or a process-like clone). */
const FORBIDDEN_IMPORTS = new Set([
  'fork', 'vfork', '_Fork', 'popen', 'system', 'execv', 'execve', 'execvp', 'execvpe', 'execveat', 'execl',
  'execlp', 'execle', 'fexecve', 'posix_spawn', 'posix_spawnp', 'clone', 'clone3', 'daemon',
]);

/** Names of the undefined (imported) symbols in an ELF64 little-endian shared object's .dynsym. */
function importedSymbols(elf: Buffer): string[] {
  if (elf.subarray(0, 4).toString('latin1') !== '\x7fELF') throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('expected ELF64 little-endian');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const section = (i: number): { type: number; offset: number; size: number; link: number; entsize: number } => {
    const base = shoff + i * shentsize;
    return {
      type: elf.readUInt32LE(base + 4),
      offset: Number(elf.readBigUInt64LE(base + 0x18)),
      size: Number(elf.readBigUInt64LE(base + 0x20)),
      link: elf.readUInt32LE(base + 0x28),
      entsize: Number(elf.readBigUInt64LE(base + 0x38)),
    };
  };
  const SHT_DYNSYM = 11;
  const names: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const sh = section(i);
    if (sh.type !== SHT_DYNSYM) continue;
    const strtab = section(sh.link);
    for (let off = sh.offset; off + sh.entsize <= sh.offset + sh.size; off += sh.entsize) {
      const nameOff = elf.readUInt32LE(off);
      const shndx = elf.readUInt16LE(off + 6);
      if (shndx !== 0 || nameOff === 0) continue; // defined here, or the null symbol
      const start = strtab.offset + nameOff;
      names.push(elf.toString('latin1', start, elf.indexOf(0, start)));
    }
  }
  return names;
}

describe('the detector itself', () => {
  it('flags process starts and ignores look-alikes', () => {
    expect(findProcessStarts("import { execFile } from 'node:child_process';")).not.toEqual([]);
    expect(findProcessStarts("const cp = require('child_process');")).not.toEqual([]);
    expect(findProcessStarts('pid_t p = fork();')).not.toEqual([]);
    expect(findProcessStarts('execvp("ip", argv);')).not.toEqual([]);
    expect(findProcessStarts('std::system("ip link add br0 type bridge");')).not.toEqual([]);
    expect(findProcessStarts('FILE* f = popen("nft -j list ruleset", "r");')).not.toEqual([]);
    expect(findProcessStarts('syscall(SYS_clone3, &args, sizeof args);')).not.toEqual([]);
    expect(findProcessStarts('posix_spawnp(&pid, "ip", 0, 0, argv, envp);')).not.toEqual([]);
    expect(findProcessStarts('const m = /^(\\d+)$/.exec(text);')).toEqual([]);
    expect(findProcessStarts('// we never fork() ip, unlike pyroute2\nint x = 1;')).toEqual([]);
    expect(findProcessStarts('/* no system() calls here */')).toEqual([]);
    expect(findProcessStarts('std::error_code ec(errno, std::system_category());')).toEqual([]);
  });

  it('reads imported symbols from an ELF file: node itself imports fork (libuv spawns children)', () => {
    const imports = importedSymbols(readFileSync(process.execPath));
    expect(imports).toContain('socket');
    expect(imports.filter((s) => FORBIDDEN_IMPORTS.has(s)).length).toBeGreaterThan(0);
  });
});

describe('nothing under lib/ or native/ starts a process', () => {
  it('lib/ sources', () => {
    const files = walk(join(ROOT, 'lib'));
    expect(files.map((f) => relative(ROOT, f))).toContain('lib/index.ts');
    const offenders = files
      .map((f) => ({ file: relative(ROOT, f), hits: findProcessStarts(readFileSync(f, 'utf8')) }))
      .filter((x) => x.hits.length > 0);
    expect(offenders).toEqual([]);
  });

  it('native/ sources', () => {
    const files = walk(join(ROOT, 'native'));
    expect(files.some((f) => /\.(cc|cpp|cxx|c)$/.test(f))).toBe(true);
    const offenders = files
      .map((f) => ({ file: relative(ROOT, f), hits: findProcessStarts(readFileSync(f, 'utf8')) }))
      .filter((x) => x.hits.length > 0);
    expect(offenders).toEqual([]);
  });

  it('the built addon imports no process-creating libc function', () => {
    const candidates = [join(ROOT, 'build', 'Release', 'nlkit.node'), ...walk(join(ROOT, 'prebuilds'), (n) => n.endsWith('.node'))].filter(
      (p) => existsSync(p),
    );
    expect(candidates.length).toBeGreaterThan(0);
    for (const p of candidates) {
      const imports = importedSymbols(readFileSync(p));
      // Sanity: the table read is the right one, it holds what a netlink addon needs.
      expect(imports).toEqual(expect.arrayContaining(['socket', 'sendmsg', 'recvmsg', 'setns']));
      expect(imports.filter((s) => FORBIDDEN_IMPORTS.has(s))).toEqual([]);
    }
  });
});
