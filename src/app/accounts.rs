//! Reps' accounts: setting a password (hashed with Argon2id), disabling a
//! rep, roles, and API tokens (32 random bytes shown once, kept as their
//! SHA-256); checking a password or a token gives the actor it signs in as.
//! A rep manages their own password and tokens; an admin (acting for the
//! team) anyone's, and only an admin gives roles and disables reps.

use super::{invalid, reps, Actor, AppError, AppResult, Core};
use crate::domain::account::{
    check_password, looks_like_token, token_digest, token_text, Account, ApiToken, Credentials, Role,
};
use crate::domain::prospect::Rep;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Every rep's account (role, whether a password is set, disabled).
pub async fn list(core: &Core) -> AppResult<Vec<Account>> {
    Ok(core.store.accounts().await?)
}

/// Sets a rep's password: checked for length, hashed with Argon2id (off the
/// async threads: it is slow on purpose).
pub async fn set_password(core: &Core, actor: &Actor, rep: Option<&str>, password: &str) -> AppResult<Rep> {
    // A rep resolves only to themselves; the team (an admin, the operator) to anyone.
    let rep = reps::resolve(core, actor, rep).await?;
    check_password(password).map_err(invalid)?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(format!("hashing the password stopped: {e}")))?
    .map_err(|e| AppError::Internal(format!("cannot hash the password: {e}")))?;
    core.store.set_password(rep.id, &hash, core.clock.now()).await?;
    Ok(rep)
}

/// Gives a rep a role; only an admin (or the operator) may.
pub async fn set_role(core: &Core, actor: &Actor, rep: Option<&str>, role: &str) -> AppResult<Rep> {
    let role = Role::parse(role).map_err(invalid)?;
    let rep = reps::resolve(core, actor, rep).await?;
    if let Actor::Rep { .. } = actor {
        return Err(invalid("only an admin gives roles"));
    }
    core.store.set_role(rep.id, role).await?;
    Ok(rep)
}

/// Disables a rep: they sign in no more and their tokens stop working. Their
/// prospects stay. False when they were disabled already.
pub async fn disable(core: &Core, actor: &Actor, rep: Option<&str>) -> AppResult<(Rep, bool)> {
    let rep = reps::resolve(core, actor, rep).await?;
    if let Actor::Rep { .. } = actor {
        return Err(invalid("only an admin disables a rep"));
    }
    let changed = core.store.disable_rep(rep.id, core.clock.now()).await?;
    Ok((rep, changed))
}

/// The actor signing in as `email` with `password`, or `None` (no such rep,
/// no password set, a wrong one, or a disabled rep: the caller says only
/// that the email or password is wrong). An unknown email costs the same
/// hashing as a known one, so timing tells nothing.
pub async fn sign_in(core: &Core, email: &str, password: &str) -> AppResult<Option<Actor>> {
    Ok(verify(core, email, password).await?.map(actor_of))
}

/// The rep's credentials when `password` is theirs and they may sign in.
async fn verify(core: &Core, email: &str, password: &str) -> AppResult<Option<Credentials>> {
    let credentials = core.store.credentials(email).await?;
    let stored = credentials.as_ref().and_then(|c| c.password_hash.clone());
    let password = password.to_string();
    let matches = tokio::task::spawn_blocking(move || {
        let phc = stored.as_deref().unwrap_or_else(|| decoy());
        let verified = PasswordHash::new(phc)
            .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
            .unwrap_or(false);
        verified && stored.is_some()
    })
    .await
    .map_err(|e| AppError::Internal(format!("checking the password stopped: {e}")))?;
    Ok(credentials.filter(|c| matches && !c.disabled))
}

/// A session just started: the cookie's value (32 random bytes, kept
/// server-side only as a digest), the token its forms carry, and who it is.
#[derive(Debug, Clone)]
pub struct Started {
    pub cookie: String,
    pub csrf_token: String,
    pub actor: Actor,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum SignIn {
    Started(Started),
    /// The email or the password is wrong (which, is not said).
    Wrong,
    /// Too many failures for the account or from the client: until then,
    /// the password is not even checked.
    Locked(chrono::DateTime<chrono::Utc>),
}

/// Signs in under the lockouts of the account and of the client (its
/// address, as the listener keys it), counted in the database, so every
/// daemon on it holds the same lock.
pub async fn log_in_guarded(core: &Core, email: &str, password: &str, client: &str) -> AppResult<SignIn> {
    use crate::domain::lockout::Policy;
    use crate::store::LockoutKind::{Account, Client};
    let http = &core.settings.config.http;
    let window = chrono::Duration::minutes(i64::from(http.login_lockout_minutes.max(1)));
    let account = email.trim().to_lowercase();
    let now = core.clock.now();
    let locked = core
        .store
        .login_locked_until(Account, &account, now)
        .await?
        .max(core.store.login_locked_until(Client, client, now).await?);
    if let Some(until) = locked {
        return Ok(SignIn::Locked(until));
    }
    if let Some(started) = log_in(core, email, password).await? {
        core.store.clear_login_failures(Account, &account).await?;
        return Ok(SignIn::Started(started));
    }
    let policy = |failures| Policy { failures, window };
    let locked = core
        .store
        .record_login_failure(Account, &account, policy(http.login_failures_per_account), now)
        .await?
        .max(
            core.store
                .record_login_failure(Client, client, policy(http.login_failures_per_client), now)
                .await?,
        );
    Ok(locked.map_or(SignIn::Wrong, SignIn::Locked))
}

/// A session for `email` if `password` is theirs: a new id each time, so a
/// session id planted before signing in is worth nothing after.
pub async fn log_in(core: &Core, email: &str, password: &str) -> AppResult<Option<Started>> {
    let Some(credentials) = verify(core, email, password).await? else {
        return Ok(None);
    };
    let http = &core.settings.config.http;
    let now = core.clock.now();
    let expires_at = now + chrono::Duration::hours(http.session_max_hours as i64);
    let idle_until = now + chrono::Duration::minutes(http.session_idle_minutes as i64);
    let cookie = hex::encode(rand::random::<[u8; 32]>());
    let csrf_token = hex::encode(rand::random::<[u8; 32]>());
    core.store
        .start_session(
            credentials.rep_id,
            &token_digest(&cookie),
            &csrf_token,
            now,
            idle_until,
            expires_at,
        )
        .await?;
    Ok(Some(Started {
        cookie,
        csrf_token,
        actor: actor_of(credentials),
        expires_at,
    }))
}

/// Who a live session is: the actor they act as, their own rep and role,
/// and the token their forms carry.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    /// Their own rep: name, address, zone and language for the pages.
    pub rep: Rep,
    pub role: Role,
    pub csrf_token: String,
}

/// The live session's signed-in rep, keeping it alive; `None` when the
/// session ended (idle, past its end, logged out, password changed, rep
/// disabled) or never was.
pub async fn session(core: &Core, cookie: &str) -> AppResult<Option<SignedIn>> {
    if cookie.len() != 64 || !cookie.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let now = core.clock.now();
    let idle_until = now + chrono::Duration::minutes(core.settings.config.http.session_idle_minutes as i64);
    let session = core.store.session(&token_digest(cookie), now, idle_until).await?;
    let Some(session) = session else {
        return Ok(None);
    };
    let reps = core.store.list_reps().await?;
    let Some(rep) = reps.into_iter().find(|r| r.id == session.credentials.rep_id) else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        rep,
        role: session.credentials.role,
        csrf_token: session.csrf_token,
        actor: actor_of(session.credentials),
    }))
}

/// Ends a session (logout); false when there was none.
pub async fn log_out(core: &Core, cookie: &str) -> AppResult<bool> {
    Ok(core.store.end_session(&token_digest(cookie)).await?)
}

/// A hash of a random password nobody knows, made once with the same
/// parameters as real ones: verified when there is no real hash, so an
/// unknown email takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let secret = rand::random::<[u8; 32]>();
        Argon2::default()
            .hash_password(&secret, &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// The actor a signed-in rep acts as: their own prospects, or the team's for a manager or admin.
fn actor_of(credentials: Credentials) -> Actor {
    match credentials.role {
        Role::Rep => Actor::Rep {
            id: credentials.rep_id,
            name: credentials.name,
        },
        Role::Manager | Role::Admin => Actor::Team { name: credentials.name },
    }
}

/// Creates a named API token for a rep: the token's text is returned once
/// and kept only as its digest.
pub async fn create_token(core: &Core, actor: &Actor, rep: Option<&str>, name: &str) -> AppResult<(ApiToken, String)> {
    let name = crate::domain::prospect::required_text("token name", name).map_err(invalid)?;
    if name.chars().count() > 64 {
        return Err(invalid("a token name has at most 64 characters"));
    }
    // A rep resolves only to themselves; the team (an admin, the operator) to anyone.
    let rep = reps::resolve(core, actor, rep).await?;
    let text = token_text(&rand::random::<[u8; 32]>());
    let token = core
        .store
        .add_api_token(rep.id, &name, &token_digest(&text), core.clock.now())
        .await?;
    Ok((token, text))
}

/// A rep's tokens (every rep's for `None` and an operator or admin).
pub async fn tokens(core: &Core, actor: &Actor, rep: Option<&str>) -> AppResult<Vec<ApiToken>> {
    match rep {
        Some(_) => {
            let rep = reps::resolve(core, actor, rep).await?;
            Ok(core.store.api_tokens(Some(rep.id)).await?)
        }
        None => match actor {
            Actor::Rep { id, .. } => Ok(core.store.api_tokens(Some(*id)).await?),
            _ => Ok(core.store.api_tokens(None).await?),
        },
    }
}

/// Revokes a rep's token by its id or name; false when it was revoked already.
pub async fn revoke_token(core: &Core, actor: &Actor, rep: Option<&str>, token: &str) -> AppResult<(ApiToken, bool)> {
    // A rep resolves only to themselves; the team (an admin, the operator) to anyone.
    let rep = reps::resolve(core, actor, rep).await?;
    let tokens = core.store.api_tokens(Some(rep.id)).await?;
    let found = tokens
        .into_iter()
        .find(|t| t.id.to_string() == token.trim() || t.name == token.trim())
        .ok_or_else(|| {
            invalid(format!(
                "{} has no token '{token}'; see `rapport rep token list --rep {}`",
                rep.email, rep.email
            ))
        })?;
    let changed = core.store.revoke_api_token(rep.id, found.id, core.clock.now()).await?;
    Ok((found, changed))
}

/// The actor an `Authorization: Bearer` token signs in as, if it is live.
pub async fn bearer(core: &Core, token: &str) -> AppResult<Option<Actor>> {
    Ok(bearer_rep(core, token).await?.map(|(actor, _, _)| actor))
}

/// The same, with the token's rep (what idempotency keys are kept per) and role.
pub async fn bearer_rep(core: &Core, token: &str) -> AppResult<Option<(Actor, crate::domain::prospect::RepId, Role)>> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    let owner = core.store.token_owner(&token_digest(token), core.clock.now()).await?;
    Ok(owner.map(|credentials| {
        let (rep, role) = (credentials.rep_id, credentials.role);
        (actor_of(credentials), rep, role)
    }))
}
