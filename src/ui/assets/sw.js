// The status page's service worker: adds the page's API token to the
// requests an <audio> element makes for /recordings/<id> (an element cannot
// send headers, and the token never goes into a URL). The token is asked
// from the page for each request and never stored here. Range headers pass
// through, so playback seeks on the download URL itself.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function tokenOf(clientId) {
  let client = clientId ? await self.clients.get(clientId) : undefined;
  if (!client) client = (await self.clients.matchAll({ type: 'window' }))[0];
  if (!client) return undefined;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(undefined), 2000);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(event.data && typeof event.data.token === 'string' ? event.data.token : undefined);
    };
    client.postMessage({ type: 'callbridge-token' }, [channel.port2]);
  });
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !/^\/recordings\/\d+$/.test(url.pathname)) return;
  event.respondWith(
    (async () => {
      const token = await tokenOf(event.clientId || event.resultingClientId);
      if (!token) return fetch(event.request);
      const headers = new Headers(event.request.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(url.href, { method: event.request.method, headers, cache: 'no-store', credentials: 'omit' });
    })(),
  );
});
