// Refuse to run the suite in the machine's own network namespace: the tests create and delete
// links, namespaces and rules, and must only ever do so in the scratch namespaces of `npm test`.
export default function isolationGuard(): void {
  if (process.env.NLKIT_ISOLATED !== '1') {
    throw new Error('nlkit tests run only inside scratch namespaces: use `npm test`, not vitest directly');
  }
}
