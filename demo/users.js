/*
 * The fake signed-in users of "Acme Analytics". In a real app the server would render the
 * signed-in user's identity into the page; here a switcher picks one of these, so a newcomer
 * can watch Parley tell people (and the revenue behind them) apart. Ann and Dev share an
 * account on purpose: the admin console then shows one account with two users.
 */
window.AcmeUsers = [
  {
    id: 'u-101',
    email: 'ann@acme-corp.test',
    name: 'Ann Lee',
    type: 'Owner',
    created_at: 1609459200,
    cf_persona: 'executive',
    account: {
      id: 'acme-corp',
      name: 'Acme Corp',
      plan: 'Enterprise',
      monthly_rate: 1250,
      ltv: 45000,
      created_at: 1609459200,
      cf_region: 'EU',
    },
    app_version: '4.2.0',
    location: { country: 'DE', region: 'BE', city: 'Berlin' },
  },
  {
    id: 'u-102',
    email: 'dev@acme-corp.test',
    name: 'Dev Patel',
    type: 'Analyst',
    created_at: 1640995200,
    cf_persona: 'developer',
    account: {
      id: 'acme-corp',
      name: 'Acme Corp',
      plan: 'Enterprise',
      monthly_rate: 1250,
      ltv: 45000,
      created_at: 1609459200,
      cf_region: 'EU',
    },
    app_version: '4.2.0',
    location: { country: 'IN', region: 'KA', city: 'Bengaluru' },
  },
  {
    id: 'u-201',
    email: 'bruno@globex.test',
    name: 'Bruno Costa',
    type: 'Admin',
    created_at: 1656633600,
    cf_persona: 'marketer',
    account: {
      id: 'globex',
      name: 'Globex',
      plan: 'Team',
      monthly_rate: 99.5,
      ltv: 1495,
      created_at: 1656633600,
      cf_region: 'LATAM',
    },
    app_version: '4.1.3',
    location: { country: 'BR', region: 'SP', city: 'São Paulo' },
  },
  {
    id: 'u-301',
    email: 'chloe@initech.test',
    name: 'Chloé Martin',
    type: 'Member',
    created_at: 1688169600,
    cf_persona: 'founder',
    account: {
      id: 'initech',
      name: 'Initech',
      plan: 'Starter',
      monthly_rate: 29,
      ltv: 348,
      created_at: 1688169600,
      cf_region: 'EU',
    },
    app_version: '3.9.0',
    location: { country: 'FR', region: 'IDF', city: 'Paris' },
  },
];
