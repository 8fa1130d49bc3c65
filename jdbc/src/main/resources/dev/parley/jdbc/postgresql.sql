-- Parley outbox and inbox for PostgreSQL. ${prefix} is the table prefix (default parley_).
CREATE TABLE IF NOT EXISTS ${prefix}outbox (
  seq BIGSERIAL PRIMARY KEY,
  message_id VARCHAR(255) NOT NULL,
  destination_kind CHAR(1) NOT NULL,
  destination VARCHAR(255) NOT NULL,
  partition_key VARCHAR(255),
  headers TEXT NOT NULL,
  payload BYTEA NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  sent_at TIMESTAMP WITH TIME ZONE
);
CREATE INDEX IF NOT EXISTS ${prefix}outbox_unsent ON ${prefix}outbox (seq) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS ${prefix}outbox_sent_at ON ${prefix}outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${prefix}outbox_lease (
  name VARCHAR(255) PRIMARY KEY,
  owner VARCHAR(255) NOT NULL,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE TABLE IF NOT EXISTS ${prefix}inbox (
  consumer_group VARCHAR(255) NOT NULL,
  message_id VARCHAR(255) NOT NULL,
  received_at TIMESTAMP WITH TIME ZONE NOT NULL,
  payload_digest VARCHAR(64),
  PRIMARY KEY (consumer_group, message_id)
);
CREATE INDEX IF NOT EXISTS ${prefix}inbox_received_at ON ${prefix}inbox (received_at);
-- Upgrades tables made by earlier versions: ids up to 255 bytes (docs/wire.md section 1), and the
-- payload digest that tells a redelivery from another message reusing its id.
ALTER TABLE ${prefix}outbox ALTER COLUMN message_id TYPE VARCHAR(255);
ALTER TABLE ${prefix}inbox ALTER COLUMN message_id TYPE VARCHAR(255);
ALTER TABLE ${prefix}inbox ADD COLUMN IF NOT EXISTS payload_digest VARCHAR(64);
