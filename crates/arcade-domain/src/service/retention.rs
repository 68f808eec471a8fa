//! The retention, applied in rounds by the servers.

use crate::DomainError;
use crate::retention::{Retention, RetentionReport};

use super::Arcade;

impl Arcade {
    /// One round of the retention as of now. `None` when another replica is applying it.
    pub async fn apply_retention(
        &self,
        retention: &Retention,
    ) -> Result<Option<RetentionReport>, DomainError> {
        let now = self.now();
        Ok(self
            .ports
            .admin
            .apply_retention(retention.replays_before(now), retention.history_before(now))
            .await?)
    }
}
