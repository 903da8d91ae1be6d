<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

use Opsync\Engine;
use Opsync\OpsyncException;

/**
 * The opsync addon module (`modules/addons/opsync/opsync.php` calls these): its settings
 * page, activation, the admin page with the run history, "Plan" and "Sync now", and the
 * optional run from WHMCS's own cron (`AfterCronJob`, at most once per interval).
 */
final class Addon
{
    /** Yes/no settings: empty means "as the Openprovider module says". */
    private const INHERIT = ['' => 'As the Openprovider module', 'on' => 'Yes', 'off' => 'No'];

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
            'version' => '0.1.0',
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
                    'Description' => "Which Openprovider date is the expiry (empty: the module's renewalDateSync)",
                ],
                'sync_due_date' => $yesNo('Sync due date', 'updateNextDueDate', 'The next due date (and invoice date) follow the expiry'),
                'due_date_offset_days' => $number('Due date offset', "Days before the expiry (empty: the module's nextDueDateOffset)"),
                'due_date_max_shift_days' => $number('Largest due date move', "Days; a larger move is reported, not made; \"none\": no limit (empty: the module's nextDueDateUpdateMaxDayDifference)"),
                'sync_auto_renew' => $yesNo('Push auto-renew', 'syncAutoRenewSetting', "WHMCS's auto-renew leads Openprovider's"),
                'sync_whois_privacy' => $yesNo('Push ID protection', 'syncIdentityProtectionToggle', "WHMCS's ID protection leads WHOIS privacy"),
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
                'send_empty' => $yesNo('Mail empty reports', 'sendEmptyActivityEmail', 'Mail a report even when nothing changed'),
                'repeat_still_open_hours' => $number('Repeat open problems (hours)', 'Problems already reported are listed in full again after this many hours; in between a report gives them one line (empty: 24; 0: every report)'),
                'run_from_cron' => [
                    'FriendlyName' => "Run from WHMCS's cron",
                    'Type' => 'yesno',
                    'Description' => "Sync after WHMCS's own cron job, at most once per interval (off: run DomainSync.php from your crontab)",
                ],
                'cron_interval_hours' => $number('Interval (hours)', "At most one run from WHMCS's cron per this many hours (empty: the module's updateInterval)"),
            ],
        ];
    }

    /** @return array{status: string, description: string} `opsync_activate()` */
    public static function activate(Host $host): array
    {
        try {
            (new Store($host->pdo(), $host))->createTables();
        } catch (\PDOException $e) {
            return ['status' => 'error', 'description' => 'opsync could not create its tables: ' . $e->getMessage()];
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
     * `opsync_output($vars)`: the admin page, after doing what its buttons asked.
     *
     * @param array<string, mixed> $vars WHMCS's (`modulelink` used)
     * @param array<string, mixed> $post
     * @param array<string, mixed> $get
     */
    public static function output(Host $host, array $vars, array $post, array $get, ?Engine $engine = null): string
    {
        $page = new AddonPage((string) ($vars['modulelink'] ?? 'addonmodules.php?module=opsync'));
        $store = new Store($host->pdo(), $host);
        $settings = null;
        try {
            $engine ??= new Engine();
            $settings = Settings::read($host, $store, $engine, getenv());
        } catch (OpsyncException $e) {
            $page->error('The settings cannot be used: ' . $e->getMessage());
        }
        $action = (string) ($post['opsync_action'] ?? '');
        if ($settings !== null && $engine !== null && \in_array($action, ['plan', 'sync', 'sync_release'], true)) {
            try {
                $runner = new Runner($host, $engine, $settings);
                $start = match ($action) {
                    'plan' => $runner->start('plan'),
                    'sync' => $runner->start('sync'),
                    'sync_release' => $runner->start('sync', ['allow_mass_change' => true]),
                };
                $page->outcome($action, new RunOutcome($runner->run($start)));
            } catch (OpsyncException | \PDOException | \JsonException $e) {
                $page->error(($action === 'plan' ? 'The plan' : 'The sync') . ' did not complete: ' . $e->getMessage());
            }
        }
        if ($settings !== null) {
            $page->settings($settings);
        }
        try {
            $page->runs($store->lastRuns(20));
            if (isset($get['run']) && ctype_digit((string) $get['run'])) {
                $page->shownRun($store->run((int) $get['run']));
            }
        } catch (\PDOException $e) {
            $page->error('The run history cannot be read: ' . Store::describe($e));
        }
        return $page->html();
    }

    /**
     * The `AfterCronJob` hook: a sync when the admin asked for runs from WHMCS's cron and
     * the last sync (of either host) is at least the interval ago. Never breaks WHMCS's
     * cron: what goes wrong is in the run history and the module log, not thrown.
     */
    public static function afterCron(Host $host, ?Engine $engine = null): ?RunOutcome
    {
        try {
            $engine ??= new Engine();
            $store = new Store($host->pdo(), $host);
            $settings = Settings::read($host, $store, $engine, getenv());
            if (!$settings->runFromCron()) {
                return null;
            }
            $last = $store->lastSyncAt();
            if ($last !== null && strtotime($last) > time() - $settings->cronIntervalHours() * 3600) {
                return null;
            }
            $runner = new Runner($host, $engine, $settings);
            return new RunOutcome($runner->run($runner->start('sync')));
        } catch (\Throwable $e) {
            $host->moduleLog('AfterCronJob', '', 'the sync did not complete: ' . $e->getMessage(), []);
            return null;
        }
    }
}
