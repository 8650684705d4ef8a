# frozen_string_literal: true

# Stand-in for the parts of GitLab Rails that mint-runner.rb uses, kept in a JSON file ($STUB_STATE):
#   {"admins": [{"id": 1, "username": "root"}], "pending_migrations": false, "next_id": 1,
#    "runners": [{"id": 1, "runner_type": "instance_type", "description": "...", "token": "glrt-..."}]}
# It follows the Rails API the script calls (scopes, find_by_token, sanitize_sql_like, the runner
# services and their ServiceResponse), and refuses runner attributes Ci::Runner does not have, as
# ActiveRecord does. Run: ruby -r ./stub_rails.rb mint-runner.rb
require 'json'
require 'securerandom'

STUB_STATE = ENV.fetch('STUB_STATE')
$stub = JSON.parse(File.read(STUB_STATE))
$stub['admins'] ||= []
$stub['runners'] ||= []
at_exit { File.write(STUB_STATE, JSON.pretty_generate($stub)) }

class Object
  def try(name)
    respond_to?(name) ? public_send(name) : nil
  end
end

class ServiceResponse
  attr_reader :message, :payload

  def self.success(payload: {})
    new(true, nil, payload)
  end

  def self.error(message:, reason: nil)
    new(false, message, {})
  end

  def initialize(ok, message, payload)
    @ok = ok
    @message = message
    @payload = payload
  end

  def success?
    @ok
  end
end

class ApplicationRecord
  MigrationContext = Struct.new(:pending) do
    def needs_migration?
      pending
    end
  end
  Connection = Struct.new(:pending) do
    def migration_context
      MigrationContext.new(pending)
    end
  end

  def self.connection
    Connection.new($stub['pending_migrations'])
  end

  def self.sanitize_sql_like(string, escape_character = '\\')
    string.gsub(/[\\_%]/) { |m| escape_character + m }
  end
end

# An ActiveRecord relation over an array, for the calls the script chains.
class Relation
  include Enumerable

  def initialize(records)
    @records = records
  end

  def each(&block)
    @records.each(&block)
  end

  def active
    self
  end

  def order(attribute)
    Relation.new(@records.sort_by { |r| r.public_send(attribute) })
  end

  def where(sql, pattern)
    raise "stub: unexpected query #{sql}" unless sql == 'description LIKE ?'

    regexp = Regexp.new("\\A#{like_to_regexp(pattern)}\\z", Regexp::MULTILINE)
    Relation.new(@records.select { |r| regexp.match?(r.description.to_s) })
  end

  private

  def like_to_regexp(pattern)
    out = +''
    chars = pattern.chars
    until chars.empty?
      c = chars.shift
      out << case c
             when '\\' then Regexp.escape(chars.shift.to_s)
             when '%' then '.*'
             when '_' then '.'
             else Regexp.escape(c)
             end
    end
    out
  end
end

class User
  attr_reader :id, :username

  def initialize(attrs)
    @id = attrs['id']
    @username = attrs['username']
  end

  def self.admins
    Relation.new($stub['admins'].map { |a| new(a) })
  end
end

module Ci
  class Runner < ApplicationRecord
    ATTRIBUTES = %w[runner_type description maintenance_note active locked run_untagged tag_list access_level maximum_timeout
                    registration_type creator token].freeze

    attr_reader :record

    def initialize(record)
      @record = record
    end

    def self.all
      $stub['runners'].map { |r| new(r) }
    end

    def self.instance_type
      Relation.new(all.select { |r| r.record['runner_type'] == 'instance_type' })
    end

    def self.find_by_token(token)
      all.find { |r| r.token == token }
    end

    def self.create!(params)
      unknown = params.keys.map(&:to_s) - ATTRIBUTES
      raise "unknown attribute(s) for Ci::Runner: #{unknown.join(', ')}" unless unknown.empty?

      record = params.transform_keys(&:to_s).merge('id' => $stub['next_id'], 'token' => new_token)
      $stub['next_id'] += 1
      $stub['runners'] << record
      new(record)
    end

    def self.new_token
      "glrt-t1_#{SecureRandom.alphanumeric(20)}"
    end

    def id
      record['id']
    end

    def description
      record['description']
    end

    def token
      record['token']
    end

    def reset_token!
      record['token'] = self.class.new_token
    end
  end

  module Runners
    class CreateRunnerService
      def initialize(user:, params:)
        @user = user
        @params = params
      end

      def execute
        params = @params.dup
        params[:active] = !params.delete(:paused) if params.key?(:paused)
        params[:registration_type] = 'authenticated_user'
        params[:creator] = @user.id
        ServiceResponse.success(payload: { runner: Ci::Runner.create!(params) })
      end
    end

    class ResetAuthenticationTokenService
      def initialize(runner:, current_user: nil, source: nil)
        @runner = runner
        @user = current_user
      end

      def execute!
        return ServiceResponse.error(message: 'Not permitted to reset', reason: :forbidden) unless @user

        @runner.reset_token!
        ServiceResponse.success
      end
    end
  end
end
