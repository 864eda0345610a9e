// The console shell: top nav, hash routing (lib/route.ts), the live SSE connection, the services
// list shared with every page, and the login box on 401.
import { useEffect, useState } from 'preact/hooks';
import { parseRoute, routeHref, type Page } from './lib/route';
import { fetchServices, onAuthRequired } from './lib/api';
import { connect, reconnect, subscribeStatus } from './lib/stream';
import { AuthEpoch, Services, useLoad } from './components/common';
import { LoginBox } from './components/login';
import { HomePage } from './pages/home';
import { CamerasPage } from './pages/cameras';
import { AlertsPage } from './pages/alerts';
import { GalleryPage } from './pages/gallery';
import { SegmentsPage } from './pages/segments';
import { FederationPage } from './pages/federation';

const NAV: [Page, string][] = [
  ['home', 'Tier map'],
  ['cameras', 'Cameras'],
  ['alerts', 'Alerts'],
  ['gallery', 'Face gallery'],
  ['segments', 'Segments'],
  ['federation', 'Federation'],
];

export function App() {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  const [login, setLogin] = useState(false);
  const [epoch, setEpoch] = useState(0);
  const [live, setLive] = useState('connecting');

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    const offAuth = onAuthRequired(() => setLogin(true));
    const offStatus = subscribeStatus(setLive);
    connect();
    return () => {
      window.removeEventListener('hashchange', onHash);
      offAuth();
      offStatus();
    };
  }, []);

  const services = useLoad(fetchServices, [epoch]);
  const pages: Record<Page, () => preact.JSX.Element> = {
    home: () => <HomePage />,
    cameras: () => <CamerasPage />,
    alerts: () => <AlertsPage params={route.params} />,
    gallery: () => <GalleryPage />,
    segments: () => <SegmentsPage />,
    federation: () => <FederationPage />,
  };

  return (
    <AuthEpoch.Provider value={epoch}>
      <Services.Provider value={services}>
        <header class="top">
          <a class="brand" href="#/">
            Strata
          </a>
          <nav>
            {NAV.map(([p, label]) => (
              <a href={routeHref(p)} class={route.page === p ? 'active' : ''} data-page={p}>
                {label}
              </a>
            ))}
          </nav>
          <span class={`live ${live === 'live' ? 'on' : ''}`} title="live stream (SSE)">
            {live}
          </span>
        </header>
        <main>{pages[route.page]()}</main>
        {login && (
          <LoginBox
            onDone={() => {
              setLogin(false);
              setEpoch((e) => e + 1);
              reconnect();
            }}
          />
        )}
      </Services.Provider>
    </AuthEpoch.Provider>
  );
}
