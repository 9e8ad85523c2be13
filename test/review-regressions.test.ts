// Regressions for defects a review of the native layer found: each test failed before its fix.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  attachContainer,
  createBridge,
  createLink,
  createNetns,
  createVethPair,
  ensureBridge,
  getLink,
  listRoutes,
  NetlinkError,
  setLink,
} from '../lib/index';
import { native } from '../lib/native';
import { expectInvalidArgument, rejectionOf } from './helpers/expect';
import { namer } from './helpers/names';
import { expectNoLeftovers, Resources } from './helpers/resources';

const names = namer('qrv');
const res = new Resources(names);
afterEach(async () => {
  await res.cleanup();
});
afterAll(async () => {
  await expectNoLeftovers(names);
});

describe('follow-up changes never touch a link the call did not create', () => {
  it('createLink with an alias, on a name that exists: EEXIST, and the existing link keeps its alias', async () => {
    const ns = await res.netns('al');
    await createBridge('d0', { netns: ns, alias: 'original' });
    const err = await rejectionOf(() => createLink({ kind: 'bridge', name: 'd0', alias: 'clobbered', netns: ns }));
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((await getLink('d0', { netns: ns })).alias).toBe('original');
  });

  it('attachContainer with hairpin, on a host name that exists: EEXIST, and that port keeps its flags', async () => {
    const host = await res.netns('hp');
    const { link } = await ensureBridge({ name: 'br0', netns: host });
    await attachContainer({ netns: await res.netns('hp1'), hostNetns: host, bridge: link.index, hostIfname: 'vh0' });
    const second = await res.netns('hp2');
    const err = await rejectionOf(() =>
      attachContainer({ netns: second, hostNetns: host, bridge: link.index, hostIfname: 'vh0', hairpin: true }),
    );
    expect((err as NetlinkError).code).toBe('EEXIST');
    expect((await getLink('vh0', { netns: host })).bridgePort?.hairpin).toBe(false);
  });
});

describe('attachContainer', () => {
  it('says which name is taken when the container already has the interface, without retrying host names', async () => {
    const host = await res.netns('tk');
    const { link } = await ensureBridge({ name: 'br0', netns: host });
    const c = await res.netns('tkc');
    await attachContainer({ netns: c, hostNetns: host, bridge: link.index });
    const err = (await rejectionOf(() => attachContainer({ netns: c, hostNetns: host, bridge: link.index }))) as NetlinkError;
    expect(err.code).toBe('EEXIST');
    expect(err.message).toMatch(/an interface named eth0 already exists in the container/u);
  });

  it('a direct route (no gateway) is scope link, so a gateway route through it works', async () => {
    const host = await res.netns('sc');
    const { link } = await ensureBridge({ name: 'br0', netns: host });
    const c = await res.netns('scc');
    await attachContainer({
      netns: c, hostNetns: host, bridge: link.index, addresses: ['10.99.0.2/24'],
      routes: [{ to: '10.99.1.0/24' }, { to: '10.100.0.0/16', via: '10.99.1.1' }],
    });
    const routes = await listRoutes({ netns: c, family: 4 });
    expect(routes).toContainEqual(expect.objectContaining({ to: '10.99.1.0/24', scope: 'link' }));
    expect(routes).toContainEqual(expect.objectContaining({ to: '10.100.0.0/16', via: '10.99.1.1' }));
  });
});

describe('strings that have no UTF-8 form', () => {
  it('a lone surrogate in an owner, alias, name or path is refused: the kernel would hold U+FFFD instead', async () => {
    const ns = await res.netns('sg');
    const { link } = await ensureBridge({ name: 'br0', netns: ns });
    const lone = 'c\uD800';
    // The owner tag is what sweep matches a kept id against: stored as 'c\uFFFD', it would never match.
    await expectInvalidArgument(() => attachContainer({ netns: ns, bridge: link.index, owner: lone }), /^owner$/u);
    await expectInvalidArgument(() => setLink('br0', { alias: lone }, { netns: ns }), /^changes\.alias$/u);
    await expectInvalidArgument(() => createBridge(`b${lone}`, { netns: ns }), /^name$/u);
    await expectInvalidArgument(() => createNetns(`n${lone}`), /^name$/u);
    await expectInvalidArgument(() => getLink('lo', { netns: `/run/netns/${lone}` }), /^opts\.netns$|^netns$/u);
    // A surrogate pair is one character, and fine.
    const r = await setLink('br0', { alias: 'emoji \u{1F600}' }, { netns: ns });
    expect(r.alias).toBe('emoji \u{1F600}');
    expect((await getLink('br0', { netns: ns })).alias).toBe('emoji \u{1F600}');
  });
});

describe('input the native layer must never send', () => {
  it('setLink refuses a move combined with bridge-port flags before anything is sent', async () => {
    const a = await res.netns('mv');
    const b = await createNetns();
    res.trackHandle(b);
    await createVethPair({ name: 'v0', peer: { name: 'v1' }, netns: a });
    await expectInvalidArgument(() => setLink('v0', { netns: b, hairpin: true }, { netns: a }), /^changes\.netns$/u);
    expect((await getLink('v0', { netns: a })).name).toBe('v0');
  });

  it('an attribute longer than netlink\'s 16-bit length is refused, not wrapped', () => {
    expect(() => native.linkEncodeCreate({ kind: 'bridge', name: 'A'.repeat(70_000) })).toThrow(/longer than netlink allows/u);
  });
});
