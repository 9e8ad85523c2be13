// nlkit: Linux container networking over raw netlink, from a native addon that never forks.

export * from './types';
export { NlkitError, InvalidArgumentError, ErrnoError, NetlinkError, SystemError, ProtocolError, TimeoutError } from './errors';
export { configure, type NlkitConfig } from './config';
export { NetnsHandle, createNetns, openNetns, deleteNetns, listNetns } from './netns';
export {
  createLink,
  createBridge,
  createVethPair,
  setLink,
  enslave,
  release,
  deleteLink,
  getLink,
  listLinks,
  findPeer,
  LINK_KINDS,
} from './links';
export { addAddress, deleteAddress, listAddresses } from './addresses';
export { addRoute, replaceRoute, deleteRoute, listRoutes, getRoute } from './routes';
export { addNeighbor, deleteNeighbor, listNeighbors } from './neighbors';
export { getSysctl, setSysctl } from './sysctl';
export { attachContainer, detachContainer, ensureBridge } from './containers';
export { openSocket, type OpenSocketOptions } from './sockets';
export { sweep } from './sweep';
export { watch, type Watch, type WatchOptions, type WatchEvent, type WatchGroup } from './watch';
export { waitForLink, waitForAddress, type WaitForLinkOptions, type WaitForAddressOptions } from './wait';
export {
  addMasquerade,
  removeMasquerade,
  listNat,
  inspectNat,
  flushNat,
  addPortMapping,
  removePortMapping,
  listPortMappings,
  addLocalnetGuard,
  addNetworkIsolation,
  removeNetworkIsolation,
} from './nat';
