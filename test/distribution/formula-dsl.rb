# Loads a Homebrew formula with just enough of Homebrew's DSL to see what it does on one platform:
# which url and sha256 it picks, what `install` puts in bin, and whether its `test do` block passes
# against a given bin folder.
#
#   ruby formula-dsl.rb FORMULA OS ARCH STAGE_DIR BIN_DIR
# prints JSON: {"url":…,"sha256":…,"version":…,"installed":{source => name},"test":"passed"|error}
require "json"

FORMULA, OS, ARCH, STAGE, BIN = ARGV

class Formula
  class << self
    attr_reader :picked

    def desc(_text) = nil
    def homepage(_url) = nil
    def license(_name) = nil
    def version(value = nil) = value ? (@version = value) : @version
    def url(value) = (@picked ||= {})[:url] = value
    def sha256(value) = (@picked ||= {})[:sha256] = value
    def on_macos = (yield if OS == "darwin")
    def on_linux = (yield if OS == "linux")
    def on_arm = (yield if ARCH == "arm64")
    def on_intel = (yield if ARCH == "x64")
    def test(&block) = (@test_block = block)
    attr_reader :test_block
  end

  # Records what `bin.install` is asked to do.
  class Bin
    attr_reader :installed

    def initialize(path) = (@path, @installed = path, {})
    def install(mapping) = @installed.merge!(mapping)
    def to_s = @path
  end

  def bin = (@bin ||= Bin.new(BIN))
  def version = self.class.version
  def shell_output(command) = `#{command}`.tap { raise "#{command} failed" unless $?.success? }
  def assert_match(expected, actual) = (raise "#{actual.inspect} does not match #{expected.inspect}" unless actual.include?(expected))
end

load FORMULA
formula_class = Object.const_get(:Lynkr)
formula = formula_class.new
Dir.chdir(STAGE) { formula.install }
result =
  begin
    formula.instance_exec(&formula_class.test_block)
    "passed"
  rescue => e
    e.message
  end
puts JSON.generate(formula_class.picked.merge(version: formula_class.version, installed: formula.bin.installed, test: result))
