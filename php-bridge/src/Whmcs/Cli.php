<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\OpsyncException;

/**
 * `php modules/addons/opsync/cron.php [--dry-run] [--batch N] [--all] [--allow-mass-change]
 * [--verbose]` (or the old cron's path, modules/registrars/openprovider/cron/DomainSync.php,
 * which runs it): the drop-in's command line. A plain run first carries out what the addon
 * page handed to cron. Exit status as
 * `opsync sync`: 0 the run completed (per-domain problems are in the report), 2 a bad
 * command line, 4 another run holds the lock, 5 the run could not complete (the one line
 * says why), 8 the mass-change brake held the run.
 */
final class Cli
{
    public const EXIT_OK = 0;
    public const EXIT_USAGE = 2;
    public const EXIT_NOT_COMPLETED = 5;

    public const USAGE = <<<'TXT'
        Usage: php -q modules/addons/opsync/cron.php [--dry-run] [--batch N] [--all] [--allow-mass-change] [--verbose]

        Syncs the WHMCS domains of the Openprovider registrar with Openprovider (opsync).
        Openprovider leads status, expiry date and due date; WHMCS leads auto-renew and ID
        protection. Settings: Setup > Addon Modules > opsync, else the Openprovider module's
        advanced configuration.

          --dry-run   change nothing anywhere; report (and mail) what would change
          --batch N   only the next N domains (never-synced first, then the oldest)
          --all       every domain, whatever the configured batch size
          --allow-mass-change
                      release the mass-change brake for this run only (read a --dry-run first)
          --verbose   say what happens, on standard error

        A run in which more domains would change than the mass-change brake allows (the
        addon's settings) writes nothing and reports what it would have changed. A run
        without options first carries out what the addon page handed to cron (a plan, or a
        sync: then that is this run's sync).

        Exit status: 0 the run completed, 4 another run holds the lock, 5 it could not
        complete, 8 the mass-change brake held the run.
        TXT;

    /**
     * @param list<string> $argv
     * @param resource $out
     * @param resource $err
     */
    public static function main(array $argv, Host $host, $out = STDOUT, $err = STDERR): int
    {
        $mode = 'sync';
        $options = [];
        $verbose = false;
        $args = \array_slice($argv, 1);
        for ($i = 0; $i < \count($args); $i++) {
            $arg = $args[$i];
            switch (true) {
                case $arg === '--dry-run':
                    $mode = 'dry_run';
                    break;
                case $arg === '--all':
                    $options['all'] = true;
                    break;
                case $arg === '--allow-mass-change':
                    $options['allow_mass_change'] = true;
                    break;
                case $arg === '--verbose' || $arg === '-v' || $arg === '--debug':
                    $verbose = true;
                    break;
                case $arg === '--batch' || str_starts_with($arg, '--batch='):
                    $value = $arg === '--batch' ? ($args[++$i] ?? '') : substr($arg, \strlen('--batch='));
                    if (!ctype_digit($value)) {
                        return self::fail($err, "--batch needs a number of domains, not \"$value\"", self::EXIT_USAGE);
                    }
                    $options['batch'] = (int) $value;
                    break;
                case $arg === '--help' || $arg === '-h':
                    fwrite($out, self::USAGE . "\n");
                    return self::EXIT_OK;
                default:
                    return self::fail($err, "unknown argument \"$arg\" (see --help)", self::EXIT_USAGE);
            }
        }
        $say = $verbose ? static function (string $line) use ($err): void {
            fwrite($err, 'opsync: ' . $line . "\n");
        } : null;

        try {
            $pdo = $host->pdo();
        } catch (\PDOException $e) {
            return self::fail($err, 'cannot open the WHMCS database: ' . $e->getMessage(), self::EXIT_NOT_COMPLETED);
        }
        try {
            $engine = new Engine();
            $store = new Store($pdo, $host);
            $settings = Settings::read($host, $store, $engine, getenv());
            $runner = new Runner($host, $engine, $settings, $say);
            $outcome = null;
            if ($mode === 'sync' && $options === []) {
                // A plain cron run first carries out what the addon page handed to cron; a
                // sync asked for there is this run's sync.
                $queued = Addon::carryOutQueued($store, $runner);
                if ($queued !== null) {
                    if ($say !== null) {
                        $say("carried out the {$queued[0]['what']} asked for on the addon page at {$queued[0]['queued_at']}");
                    }
                    $outcome = $queued[0]['what'] === 'plan' ? null : $queued[1];
                }
            }
            $outcome ??= new RunOutcome($runner->run($runner->start($mode, $options)));
        } catch (\Throwable $e) {
            // One line, with where it happened when it is a bug, and the status cron reports.
            return self::fail($err, Addon::line($e), self::EXIT_NOT_COMPLETED);
        }
        $report = $outcome->report();
        // Under cron, a run with nothing to say prints nothing (cron mails any output).
        if ($report !== null && ($report['send'] || (\function_exists('posix_isatty') && posix_isatty($out)))) {
            fwrite($out, $report['subject'] . "\n\n" . $report['text'] . "\n");
        }
        foreach ($outcome->lines() as $line) {
            self::fail($err, $line, 0);
        }
        return $outcome->exitStatus();
    }

    /** @param resource $err */
    private static function fail($err, string $message, int $status): int
    {
        fwrite($err, 'opsync: ' . str_replace(["\r", "\n"], ' ', $message) . "\n");
        return $status;
    }
}
