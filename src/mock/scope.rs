//! Scopes: one mock, many independent tenants. Each scope has its own store
//! (sessions, tokens, orders, customer tokens, notifications), clock, request
//! journal and id generator, behind its own lock, so scopes neither see nor
//! slow each other. A scope is made on its first request; the default scope
//! (empty name) always exists and is never evicted.
//!
//! At most `max_scopes` named scopes live at once; a new one past that
//! replaces the least recently used (its state is gone; a later request in
//! it starts afresh). `[I]`: a CI server shared by many jobs keeps working
//! without anyone resetting it, and a job is only evicted after that many
//! other scopes were used since its last request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::MockConfig;
use super::clock::{Clock, LATEST};
use super::ids::{IdGenerator, mix};
use super::journal::RequestJournal;
use super::store::MockState;

/// Named scopes that may live at once, by default.
pub const DEFAULT_MAX_SCOPES: usize = 4096;

/// The mutable state of one scope.
pub(super) struct Inner {
    pub clock: Clock,
    pub store: MockState,
    pub journal: RequestJournal,
    /// Counts resets, so that a delivery begun before one records nothing after it.
    pub epoch: u64,
    /// The last `Date` header written and the second it is of: most answers
    /// of a second share it.
    date: std::cell::RefCell<(i64, String)>,
}

impl Inner {
    /// The `Date` header of the scope's clock now.
    pub fn http_date(&self) -> String {
        let now = self.clock.now();
        let mut date = self.date.borrow_mut();
        if date.0 != now || date.1.is_empty() {
            *date = (now, super::clock::http_date(now));
        }
        date.1.clone()
    }

    fn new(config: &MockConfig, name: &str, epoch: u64) -> Inner {
        let clock = if config.system_clock {
            Clock::System { offset: 0 }
        } else {
            Clock::Virtual {
                now: config.clock_start.min(LATEST),
            }
        };
        let seed = config
            .seed
            .map_or_else(IdGenerator::entropy_seed, |seed| scope_seed(seed, name));
        Inner {
            clock,
            store: MockState::seeded(config, seed),
            journal: RequestJournal::new(config.journal_limit),
            epoch,
            date: Default::default(),
        }
    }
}

/// The seed of a scope's id generator: the configured seed for the default
/// scope (so a mock without scopes answers as it always did), else the seed
/// mixed with the name's FNV-1a hash (stable across runs and builds).
pub fn scope_seed(seed: u64, name: &str) -> u64 {
    if name.is_empty() {
        return seed;
    }
    let hash = name.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    mix(seed ^ mix(hash))
}

/// One scope.
pub(super) struct Scope {
    /// Empty for the default scope.
    name: Box<str>,
    /// The registry's use counter at this scope's last request (for eviction).
    last_used: AtomicU64,
    inner: Mutex<Inner>,
}

impl Scope {
    fn new(config: &MockConfig, name: &str, used: u64) -> Scope {
        Scope {
            name: name.into(),
            last_used: AtomicU64::new(used),
            inner: Mutex::new(Inner::new(config, name, 0)),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store never panics while holding the lock; if it ever did, its
    /// state is still a value the next request can use.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one delivery attempt of notification journal entry `entry`,
    /// unless the scope was reset since the delivery began.
    pub fn record_attempt(&self, epoch: u64, entry: u64, outcome: Result<u16, String>) {
        let mut inner = self.lock();
        if inner.epoch == epoch {
            inner.store.record_attempt(entry, outcome);
        }
    }

    /// Everything back to how a new scope starts: state, clock, journal, ids.
    pub fn reset(&self, config: &MockConfig) {
        self.answer_and_reset(config, |_| ());
    }

    /// `answer` on the scope as it is, then the reset, under one lock: no
    /// request of the scope's comes between and is lost.
    pub fn answer_and_reset<R>(
        &self,
        config: &MockConfig,
        answer: impl FnOnce(&mut Inner) -> R,
    ) -> R {
        let mut inner = self.lock();
        let answered = answer(&mut inner);
        let epoch = inner.epoch + 1;
        *inner = Inner::new(config, &self.name, epoch);
        answered
    }
}

/// Every scope of one mock.
pub(super) struct Scopes {
    config: MockConfig,
    default: Arc<Scope>,
    named: RwLock<HashMap<Box<str>, Arc<Scope>>>,
    max: usize,
    /// Counts requests to named scopes: the clock of "least recently used".
    uses: AtomicU64,
}

impl Scopes {
    pub fn new(config: MockConfig) -> Scopes {
        Scopes {
            default: Arc::new(Scope::new(&config, "", 0)),
            named: RwLock::new(HashMap::new()),
            max: config.max_scopes.max(1),
            uses: AtomicU64::new(0),
            config,
        }
    }

    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    pub fn default_scope(&self) -> &Arc<Scope> {
        &self.default
    }

    /// The scope named `name` (empty: the default one), made if new.
    pub fn get(&self, name: &str) -> Arc<Scope> {
        if name.is_empty() {
            return Arc::clone(&self.default);
        }
        let used = self.uses.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(scope) = self
            .named
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            scope.last_used.store(used, Ordering::Relaxed);
            return Arc::clone(scope);
        }
        let mut named = self.named.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(scope) = named.get(name) {
            scope.last_used.store(used, Ordering::Relaxed);
            return Arc::clone(scope);
        }
        if named.len() >= self.max {
            let oldest = named
                .iter()
                .min_by_key(|(_, s)| s.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                named.remove(&oldest);
            }
        }
        let scope = Arc::new(Scope::new(&self.config, name, used));
        named.insert(name.into(), Arc::clone(&scope));
        scope
    }

    /// The scope whose store holds session `session_id` (the SDK stand-in
    /// knows a session only by its client token): the default scope first,
    /// then the named ones in name order; the default scope when none does.
    /// Taking it counts as a use of that scope, as a request to it does.
    pub fn holding_session(&self, session_id: &str) -> Arc<Scope> {
        if self.default.lock().store.holds_session(session_id) {
            return Arc::clone(&self.default);
        }
        let mut named: Vec<(Box<str>, Arc<Scope>)> = self
            .named
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, scope)| (name.clone(), Arc::clone(scope)))
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        match named
            .into_iter()
            .find(|(_, scope)| scope.lock().store.holds_session(session_id))
        {
            Some((name, _)) => self.get(&name),
            None => Arc::clone(&self.default),
        }
    }

    /// Drops every named scope and resets the default one.
    pub fn reset_all(&self) {
        self.named
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.default.reset(&self.config);
    }

    /// Named scopes alive now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.named
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether a named scope lives now (without making it).
    #[cfg(test)]
    pub fn contains(&self, name: &str) -> bool {
        self.named
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scope_keeps_the_configured_seed() {
        assert_eq!(scope_seed(42, ""), 42);
        assert_ne!(scope_seed(42, "a"), 42);
        assert_ne!(scope_seed(42, "a"), scope_seed(42, "b"));
        assert_ne!(scope_seed(42, "a"), scope_seed(43, "a"));
        assert_eq!(scope_seed(42, "a"), scope_seed(42, "a"));
    }

    #[test]
    fn past_the_bound_the_least_recently_used_scope_goes() {
        let scopes = Scopes::new(MockConfig::default().seed(1).max_scopes(2));
        let a = scopes.get("a");
        let _b = scopes.get("b");
        assert!(Arc::ptr_eq(&a, &scopes.get("a"))); // a is now newer than b
        let _c = scopes.get("c");
        assert_eq!(scopes.len(), 2);
        assert!(scopes.contains("a") && scopes.contains("c"));
        assert!(!scopes.contains("b"));
        // The default scope is not counted and never evicted.
        let default = Arc::clone(scopes.default_scope());
        assert!(Arc::ptr_eq(&default, &scopes.get("")));
        scopes.reset_all();
        assert_eq!(scopes.len(), 0);
        assert!(Arc::ptr_eq(&default, &scopes.get("")));
    }
}
