# frozen_string_literal: true

# runner-migrate: find or create the GitLab chart's bundled runner on the Rails side, without an
# access token. mint-runner.sh runs it with `gitlab-rails runner`.
#
# Input: the runner's Secret as the Kubernetes API returns it, on stdin; the runner's description,
# the marker the description ends with, and its settings in RUNNER_MIGRATE_* env vars (computed by
# runner-migrate, the same way its API path names the runners it creates, so either path finds the
# runner the other made).
# Output on stdout, for mint-runner.sh only:
#   runner-migrate-result <kept|foreign|adopted|created> <runner id> <digest of the token>
#   runner-migrate-secret-patch <JSON merge patch of the Secret>   (only when the Secret must change)
# Logs go to stderr and never carry a token. Exit status 75: not ready yet, try again later.

require 'base64'
require 'digest'
require 'json'

NOT_READY = 75

def log(message)
  warn "runner-migrate: #{message}"
end

def not_ready(reason)
  log "waiting: #{reason}"
  exit NOT_READY
end

# The digest runner-migrate puts in annotations: it changes with the token and cannot be turned back.
def token_digest(token)
  Digest::SHA256.hexdigest("runner-migrate/annotation\0#{token}")[0, 16]
end

def message_of(response)
  Array(response.message).join(', ')
end

marker = ENV.fetch('RUNNER_MIGRATE_MARKER')
description = ENV.fetch('RUNNER_MIGRATE_DESCRIPTION')
fingerprint = ENV.fetch('RUNNER_MIGRATE_FINGERPRINT')
settings = JSON.parse(ENV.fetch('RUNNER_MIGRATE_RUNNER_SETTINGS')).transform_keys(&:to_sym)

# The API path's marker also names the place its token is kept ("... rm-<fp> k8s-<id>]"); the Job's
# names none. Either is this release's runner for this spec.
marker_prefix = marker.chomp(']')
marked = lambda do |text|
  text = text.to_s
  text.end_with?(marker) || text.match?(/#{Regexp.escape(marker_prefix)} \S+\]\z/)
end

begin
  if ApplicationRecord.connection.migration_context.needs_migration?
    not_ready 'the database has pending migrations (the migrations Job has not finished)'
  end
rescue NoMethodError => e
  log "cannot ask Rails for pending migrations (#{e.class}); relying on wait-for-deps"
end

admin = User.admins.active.order(:id).first
not_ready 'no active administrator yet (the database seed creates root)' unless admin

secret = JSON.parse($stdin.read)
current = Base64.decode64(secret.dig('data', 'runner-token').to_s).strip

holder = current.start_with?('glrt-') ? Ci::Runner.find_by_token(current) : nil
if holder && marked.call(holder.description)
  log "runner-token already holds the token of runner #{holder.id}; nothing to change"
  puts "runner-migrate-result kept #{holder.id} #{token_digest(current)}"
  exit 0
end
if holder && !holder.description.to_s.include?('[runner-migrate ')
  log "runner-token holds the token of runner #{holder.id}, which runner-migrate did not create; it stays. " \
      'To have runner-migrate create the runner, empty runner-token and run this Job again'
  puts "runner-migrate-result foreign #{holder.id} #{token_digest(current)}"
  exit 0
end

pattern = "%#{Ci::Runner.sanitize_sql_like(marker_prefix)}%"
runner = Ci::Runner.instance_type.where('description LIKE ?', pattern).order(:id).find do |r|
  marked.call(r.description)
end
if runner
  log "found runner #{runner.id} by its marker; runner-token does not hold its token, so it is reset"
  response = Ci::Runners::ResetAuthenticationTokenService.new(runner: runner, current_user: admin).execute!
  raise "resetting the token of runner #{runner.id}: #{message_of(response)}" unless response.success?

  state = 'adopted'
else
  log "creating instance runner \"#{description}\" as #{admin.username}"
  params = settings.merge(runner_type: 'instance_type', description: description)
  response = Ci::Runners::CreateRunnerService.new(user: admin, params: params).execute
  raise "creating the runner: #{message_of(response)}" unless response.success?

  runner = response.payload[:runner]
  state = 'created'
end

token = runner.token.to_s
raise "GitLab gave runner #{runner.id} no authentication token (glrt-)" unless token.start_with?('glrt-')

annotations = {
  'runner-migrate.io/runner-id' => runner.id.to_s,
  'runner-migrate.io/fingerprint' => fingerprint,
  'runner-migrate.io/token-digest' => token_digest(token)
}
expires = runner.try(:token_expires_at)
annotations['runner-migrate.io/token-expires-at'] = expires.utc.iso8601 if expires
patch = { metadata: { annotations: annotations }, data: { 'runner-token' => Base64.strict_encode64(token) } }
puts "runner-migrate-result #{state} #{runner.id} #{token_digest(token)}"
puts "runner-migrate-secret-patch #{JSON.generate(patch)}"
