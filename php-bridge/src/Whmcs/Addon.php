<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\EngineUnavailable;
use Opsync\OpsyncException;

/**
 * The opsync addon module (`modules/addons/opsync/opsync.php` calls these): its settings
 * page, activation and upgrade, the admin page with the run history, "Plan" and "Sync",
 * and the runs from WHMCS's own cron (`AfterCronJob`): the page's requests, and the
 * optional scheduled sync.
 *
 * The admin page runs inside a web request: under PHP-FPM or Apache the engine may be
 * out of reach (FFI is for the command line unless preloaded; the command needs
 * `proc_open`), and the request has a time limit. So a sync is never run by the page: it
 * is handed to the next cron run, and the page shows where it stands. A plan runs on the
 * page when the engine can, within the page's time limit, and is handed to cron when not.
 */
final class Addon
{
    /** Yes/no settings: empty means "as the Openprovider module says". */
    private const INHERIT = ['' => 'As the Openprovider module', 'on' => 'Yes', 'off' => 'No'];

    /** What the page's buttons ask for. */
    private const ACTIONS = ['plan', 'plan_queued', 'sync', 'sync_release', 'cancel'];

    /** @return array<string, mixed> `opsync_config()` */
    public static function config(): array
    {
        $yesNo = static fn (string $name, string $moduleKey, string $what): array => [
            'FriendlyName' => $name,
            'Type' => 'dropdown',
            'Options' => self::INHERIT,
            'Default' => '',
            'Description' => "$what (empty: as the Openprovider module's $moduleKey)",
        ];
        $number = static fn (string $name, string $what): array => [
            'FriendlyName' => $name,
            'Type' => 'text',
            'Size' => '6',
            'Default' => '',
            'Description' => $what,
        ];
        return [
            'name' => 'opsync',
            'description' => 'Keeps WHMCS domains and Openprovider in step: Openprovider leads status, '
                . 'expiry and due date; WHMCS leads auto-renew and ID protection. Replaces the '
                . "Openprovider module's DomainSync.php cron.",
            'version' => '0.2.0',
            'author' => 'opsync',
            'language' => 'english',
            'fields' => [
                'sync_status' => $yesNo('Sync status', 'syncDomainStatus', "Openprovider's status leads the WHMCS status"),
                'sync_expiry_date' => $yesNo('Sync expiry date', 'syncExpiryDate', "Openprovider's date leads the expiry date"),
                'expiry_source' => [
                    'FriendlyName' => 'Expiry from',
                    'Type' => 'dropdown',
                    'Options' => [
                        '' => 'As the Openprovider module',
                        'expiration_date' => 'Expiration date',
                        'renewal_date' => 'Renewal date',
                    ],
                    'Default' => '',
                    'Description' => "Which Openprovider date is the expiry (empty: the module's renewalDateSync; "
                        . "without it the renewal date, as Openprovider advises)",
                ],
                'sync_due_date' => $yesNo('Sync due date', 'updateNextDueDate', 'The next due date (and invoice date) follow the expiry; '
                    . "the module's syncUseNativeWHMCS true leaves them alone"),
                'due_date_offset_days' => $number('Due date offset', "Days before the expiry; negative: after it (empty: the module's nextDueDateOffset)"),
                'due_date_max_shift_days' => $number('Largest due date move', "Days; a larger move is reported, not made; \"none\": no limit (empty: the module's nextDueDateUpdateMaxDayDifference)"),
                'sync_auto_renew' => $yesNo('Push auto-renew', 'syncAutoRenewSetting', "WHMCS's auto-renew leads Openprovider's; "
                    . "the module's syncUseNativeWHMCS true pushes none"),
                'sync_whois_privacy' => $yesNo('Push ID protection', 'syncIdentityProtectionToggle', "WHMCS's ID protection leads WHOIS privacy; "
                    . "the module's syncUseNativeWHMCS true pushes none"),
                'protected_statuses' => [
                    'FriendlyName' => 'Never change',
                    'Type' => 'text',
                    'Size' => '40',
                    'Default' => '',
                    'Description' => 'WHMCS statuses left alone on both sides, separated by commas (empty: Fraud, Cancelled)',
                ],
                'mass_change_percent' => $number('Mass-change brake (%)', 'A run in which more than this share of the domains would change is held whole and reported, nothing written (empty: opsync\'s default, shown on the addon page; 100: no brake)'),
                'mass_change_min_rows' => $number('Mass-change brake (domains)', '... and more than this many domains (empty: opsync\'s default, shown on the addon page)'),
                'batch_size' => $number('Domains per run', "0: all (empty: the module's domainProcessingLimit)"),
                'min_age_hours' => $number('Minimum age (hours)', "A batched run leaves out domains synced less than this many hours ago (empty: the module's updateInterval)"),
                'send_empty' => $yesNo('Mail empty reports', 'sendEmptyActivityEmail', 'Mail a report even when nothing changed'),
                'repeat_still_open_hours' => $number('Repeat open problems (hours)', 'Problems already reported are listed in full again after this many hours; in between a report gives them one line (empty: 24; 0: every report)'),
                'exclude_domains' => [
                    'FriendlyName' => 'Leave these domains alone',
                    'Type' => 'textarea',
                    'Rows' => '3',
                    'Cols' => '60',
                    'Description' => 'Domain names, separated by commas or lines: nothing changes for them on either side, '
                        . 'and each run counts them as excluded',
                ],
                'exclude_extensions' => [
                    'FriendlyName' => 'Leave these extensions alone',
                    'Type' => 'text',
                    'Size' => '40',
                    'Description' => 'Extensions, separated by commas (co.uk matches shop.co.uk)',
                ],
                'by_extension' => [
                    'FriendlyName' => 'Rules per extension',
                    'Type' => 'textarea',
                    'Rows' => '4',
                    'Cols' => '60',
                    'Description' => 'One line per extension, over the settings above: '
                        . '"eu: due_date_offset_days = 30, expiry_source = renewal_date". Fields: sync_status, '
                        . 'sync_expiry_date, expiry_source, sync_due_date, due_date_offset_days, due_date_max_shift_days, '
                        . 'sync_auto_renew, sync_whois_privacy. The longest matching extension wins',
                ],
                'run_from_cron' => [
                    'FriendlyName' => "Run from WHMCS's cron",
                    'Type' => 'yesno',
                    'Description' => "Sync after WHMCS's own cron job, at most once per interval (off: run opsync's cron.php from your crontab)",
                ],
                'cron_interval_hours' => $number('Interval (hours)', "At most one run from WHMCS's cron per this many hours (empty: 1)"),
            ],
        ];
    }

    /** @return array{status: string, description: string} `opsync_activate()` */
    public static function activate(Host $host): array
    {
        try {
            (new Store($host->pdo(), $host))->createTables();
        } catch (\Throwable $e) {
            return ['status' => 'error', 'description' => 'opsync could not create its tables: ' . self::line($e)];
        }
        return ['status' => 'success', 'description' => 'opsync is active. Run a plan from Addons > opsync before the first sync.'];
    }

    /**
     * `opsync_upgrade($vars)`: WHMCS calls it when the addon's version changed; what an
     * earlier release's tables lack is added (the only other schema change than activation).
     */
    public static function upgrade(Host $host): void
    {
        (new Store($host->pdo(), $host))->createTables();
    }

    /** @return array{status: string, description: string} `opsync_deactivate()` */
    public static function deactivate(): array
    {
        return ['status' => 'success', 'description' => 'opsync is off. Its tables stay (opsync_runs: the run history, '
            . 'opsync_problems and opsync_state: what the reports remember, opsync_sync_state: the batch cursor); '
            . 'drop them by hand to remove them.'];
    }

    /**
     * `opsync_output($vars)`: the admin page, after doing what its buttons asked. Never
     * throws: whatever goes wrong is one line on the page.
     *
     * @param array<string, mixed> $vars WHMCS's (`modulelink` used)
     * @param array<string, mixed> $post
     * @param array<string, mixed> $get
     */
    public static function output(Host $host, array $vars, array $post, array $get, ?Engine $engine = null): string
    {
        $page = new AddonPage((string) ($vars['modulelink'] ?? 'addonmodules.php?module=opsync'));
        try {
            self::page($host, $page, $post, $get, $engine);
        } catch (\Throwable $e) {
            $page->error('opsync: ' . self::line($e));
        }
        return $page->html();
    }

    /**
     * @param array<string, mixed> $post
     * @param array<string, mixed> $get
     */
    private static function page(Host $host, AddonPage $page, array $post, array $get, ?Engine $engine): void
    {
        $action = (string) ($post['opsync_action'] ?? '');
        if ($action !== '') {
            // Stops the request here when the form's token is not this admin's.
            $host->checkToken();
        }
        $store = new Store($host->pdo(), $host);
        $page->moduleFiles(ModuleFiles::check($host->rootDir()));
        $unavailable = null;
        try {
            $engine ??= new Engine();
        } catch (EngineUnavailable $e) {
            $unavailable = $e->getMessage();
            $engine = null;
        }
        $settings = null;
        if ($engine !== null) {
            try {
                $settings = Settings::read($host, $store, $engine, getenv());
            } catch (OpsyncException $e) {
                $page->error('The settings cannot be used: ' . $e->getMessage());
            }
        }
        if (!\in_array($action, ['', ...self::ACTIONS], true)) {
            $page->error("Unknown action \"$action\": nothing was done.");
        } elseif ($action === 'cancel') {
            $store->cancelQueued();
        } elseif ($action === 'plan' && $engine !== null && $settings !== null) {
            $runner = new Runner($host, $engine, $settings);
            $limit = self::pageTimeLimitMs();
            $outcome = new RunOutcome($runner->run($runner->start('plan', ['deadline_ms' => $limit])));
            $page->outcome('plan', $outcome);
        } elseif ($action !== '') {
            $what = $action === 'plan_queued' ? 'plan' : $action;
            $store->queue($what, date('Y-m-d H:i:s'));
        }
        if ($unavailable !== null) {
            $page->engineUnavailable($unavailable);
        }
        $page->queue($store->queued(), $store->runGoingOn(), $store->done());
        if ($settings !== null) {
            $page->settings($settings);
        }
        $page->buttons($engine !== null && $settings !== null);
        try {
            $page->runs($store->lastRuns(20));
            if (isset($get['run']) && ctype_digit((string) $get['run'])) {
                $page->shownRun($store->run((int) $get['run']));
            }
        } catch (\PDOException $e) {
            $page->error('The run history cannot be read: ' . Store::describe($e));
        }
    }

    /**
     * The longest a plan may take on the page: five seconds less than PHP's time limit for
     * this request (at least five), or two minutes when there is none.
     */
    public static function pageTimeLimitMs(): int
    {
        $limit = (int) ini_get('max_execution_time');
        return $limit > 0 ? max(5, $limit - 5) * 1000 : 120_000;
    }

    /**
     * Carries out the run the page handed to cron, if one is waiting: a plan (its report
     * kept for the page), or a sync (releasing the brake once when asked).
     *
     * @return ?array{0: array{what: string, queued_at: string}, 1: RunOutcome}
     */
    public static function carryOutQueued(Store $store, Runner $runner): ?array
    {
        $request = $store->takeQueued();
        if ($request === null) {
            return null;
        }
        $what = (string) ($request['what'] ?? '');
        $mode = $what === 'plan' ? 'plan' : 'sync';
        $options = $what === 'sync_release' ? ['allow_mass_change' => true] : [];
        try {
            $outcome = new RunOutcome($runner->run($runner->start($mode, $options)));
        } catch (\Throwable $e) {
            $store->storeDone($request + ['finished_at' => date('Y-m-d H:i:s'), 'exit_status' => 5, 'lines' => [self::line($e)]]);
            throw $e;
        }
        $report = $outcome->report();
        $store->storeDone($request + [
            'finished_at' => date('Y-m-d H:i:s'),
            'exit_status' => $outcome->exitStatus(),
            'lines' => $outcome->lines(),
            'subject' => $report['subject'] ?? '',
            'text' => $report['text'] ?? '',
        ]);
        return [$request, $outcome];
    }

    /**
     * The `AfterCronJob` hook: first what the page handed to cron, then a sync when the
     * admin asked for runs from WHMCS's cron and the last sync (of either host) is at least
     * the interval ago. Never breaks WHMCS's cron: what goes wrong is in the run history
     * and the module log, not thrown.
     */
    public static function afterCron(Host $host, ?Engine $engine = null): ?RunOutcome
    {
        try {
            $engine ??= new Engine();
            $store = new Store($host->pdo(), $host);
            $settings = Settings::read($host, $store, $engine, getenv());
            $runner = new Runner($host, $engine, $settings);
            $queued = self::carryOutQueued($store, $runner);
            if ($queued !== null && $queued[0]['what'] !== 'plan') {
                return $queued[1];
            }
            if (!$settings->runFromCron()) {
                return $queued[1] ?? null;
            }
            $last = $store->lastSyncAt();
            if ($last !== null && strtotime($last) > time() - $settings->cronIntervalHours() * 3600) {
                return $queued[1] ?? null;
            }
            return new RunOutcome($runner->run($runner->start('sync')));
        } catch (\Throwable $e) {
            $host->moduleLog('AfterCronJob', '', 'the sync did not complete: ' . self::line($e), []);
            return null;
        }
    }

    /** A throwable as one line: its message, and where when it is a bug. */
    public static function line(\Throwable $e): string
    {
        $message = str_replace(["\r", "\n"], ' ', $e->getMessage());
        if ($e instanceof \PDOException) {
            return Store::describe($e);
        }
        if ($e instanceof OpsyncException || $e instanceof \JsonException) {
            return $message;
        }
        return 'failed unexpectedly (' . $e::class . ' at ' . basename($e->getFile()) . ':' . $e->getLine() . "): $message";
    }
}
