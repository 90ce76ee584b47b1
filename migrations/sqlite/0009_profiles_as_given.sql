-- A profile is followed at the address as given (http stays http, www
-- stays); `url` keeps the canonical spelling that recognises duplicates.
-- Profiles stored before this were followed at `url`, and still are.
ALTER TABLE profiles ADD COLUMN given_url TEXT;
