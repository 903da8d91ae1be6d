<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * The addon's admin page, as HTML: what a plan just found, what was handed to cron and
 * where it stands, what the module's files say, the settings in effect and where each
 * came from, the buttons, the last runs of both hosts, and one run's report. Everything
 * that came from the database, the files or Openprovider is escaped. Its forms post to
 * the page; WHMCS adds its CSRF token to them, and the page checks it.
 */
final class AddonPage
{
    /** @var list<string> */
    private array $parts = [];
    /** @var list<string> */
    private array $errors = [];

    public function __construct(private readonly string $moduleLink)
    {
    }

    public function error(string $message): void
    {
        $this->errors[] = $message;
    }

    public function outcome(string $action, RunOutcome $outcome): void
    {
        $title = $action === 'plan' ? 'Plan: what a sync would change (nothing was written)' : 'Sync done';
        if ($outcome->exitStatus() === 5) {
            $title = $action === 'plan' ? 'The plan did not complete' : 'The sync did not complete';
        }
        $lines = $outcome->lines();
        if ($outcome->mailed()) {
            array_unshift($lines, 'The report was mailed to the admins with System emails.');
        }
        $mail = implode(' ', $lines);
        $held = $outcome->held();
        $report = $outcome->report() ?? ['subject' => implode(' ', $outcome->lines()), 'text' => ''];
        $release = $held
            ? '<p>If the changes below are right, release one run:</p>'
                . $this->button('sync_release', 'Sync at the next cron run, releasing the brake once', 'btn-danger')
            : '';
        $again = $outcome->exitStatus() === 5 ? '<p>' . $this->button('plan_queued', 'Plan at the next cron run instead', 'btn-default') . '</p>' : '';
        $this->parts[] = '<div class="alert ' . ($held ? 'alert-warning' : 'alert-info') . '"><h3>' . self::e($title) . '</h3><p><strong>'
            . self::e($report['subject']) . '</strong></p>'
            . ($mail !== '' ? '<p>' . self::e($mail) . '</p>' : '') . $release . $again
            . '<pre style="white-space:pre-wrap">' . self::e($report['text']) . '</pre></div>';
    }

    /** @param list<array{level: string, text: string}> $found what the module's files say */
    public function moduleFiles(array $found): void
    {
        foreach ($found as $f) {
            $this->parts[] = '<div class="alert ' . ($f['level'] === 'warning' ? 'alert-warning' : 'alert-info') . '">'
                . self::e($f['text']) . '</div>';
        }
    }

    /** The engine cannot run in this web request: one line on why, and what to configure. */
    public function engineUnavailable(string $why): void
    {
        $this->parts[] = '<div class="alert alert-warning"><p>opsync cannot run inside this web request (' . self::e($why)
            . '). Plan and Sync are handed to the next cron run, and this page shows where they stand. To plan here, '
            . 'preload the engine for the web server: INSTALL.md, "The admin page under PHP-FPM or Apache".</p></div>';
    }

    /**
     * Where the page's last request stands: waiting for a cron run, a run going on, and
     * what the last carried-out request came to (a plan's report is shown in full).
     *
     * @param ?array<string, mixed> $queued
     * @param ?array<string, mixed> $done
     */
    public function queue(?array $queued, bool $going, ?array $done): void
    {
        $names = ['plan' => 'A plan', 'sync' => 'A sync', 'sync_release' => 'A sync releasing the brake once'];
        if ($queued !== null) {
            $this->parts[] = '<div class="alert alert-info"><p>' . self::e(($names[$queued['what'] ?? ''] ?? 'A run')
                . ' was handed to the next cron run at ' . ($queued['queued_at'] ?? '?') . '. WHMCS\'s own cron carries it out '
                . 'after its next run (the AfterCronJob hook), and so does opsync\'s cron.php from your crontab, whichever comes first.')
                . '</p>' . $this->button('cancel', 'Cancel it', 'btn-default') . '</div>';
        }
        if ($going) {
            $this->parts[] = '<div class="alert alert-info"><p>A run is going on now. Reload this page to see it end.</p></div>';
        }
        if ($done !== null) {
            $lines = implode(' ', array_map('strval', (array) ($done['lines'] ?? [])));
            $this->parts[] = '<div class="alert alert-' . ((int) ($done['exit_status'] ?? 0) === 0 ? 'success' : 'warning') . '"><p>'
                . self::e(($names[$done['what'] ?? ''] ?? 'A run') . ' asked for at ' . ($done['queued_at'] ?? '?')
                    . ' ended at ' . ($done['finished_at'] ?? '?') . ' with exit status ' . ($done['exit_status'] ?? '?') . '.')
                . '</p>' . (($done['subject'] ?? '') !== '' ? '<p><strong>' . self::e((string) $done['subject']) . '</strong></p>' : '')
                . ($lines !== '' ? '<p>' . self::e($lines) . '</p>' : '')
                . (($done['what'] ?? '') === 'plan' && ($done['text'] ?? '') !== ''
                    ? '<pre style="white-space:pre-wrap">' . self::e((string) $done['text']) . '</pre>' : '')
                . '</div>';
        }
    }

    /** The buttons: a plan here when the engine runs in this request, else at the next cron run; a sync always there. */
    public function buttons(bool $planHere): void
    {
        $this->parts[] = '<p>' . ($planHere
                ? $this->button('plan', 'Plan (change nothing)', 'btn-default')
                : $this->button('plan_queued', 'Plan at the next cron run', 'btn-default'))
            . ' ' . $this->button('sync', 'Sync at the next cron run', 'btn-primary') . '</p>';
    }

    private function button(string $action, string $label, string $class): string
    {
        return '<form method="post" action="' . self::e($this->moduleLink) . '" style="display:inline">'
            . '<input type="hidden" name="opsync_action" value="' . self::e($action) . '">'
            . '<button type="submit" class="btn ' . $class . '">' . self::e($label) . '</button></form>';
    }

    public function settings(Settings $settings): void
    {
        $rows = '';
        foreach ($settings->read['shown'] ?? [] as $shown) {
            $rows .= '<tr><td>' . self::e($shown['key']) . '</td><td>' . self::e($shown['value'])
                . '</td><td>' . self::e($shown['source']) . '</td><td>' . self::e($shown['meaning']) . '</td></tr>';
        }
        $this->parts[] = '<h3>Settings in effect</h3><p>Each setting, its value, where it came from '
            . '(the opsync addon, the Openprovider module, or opsync\'s default) and what it does. '
            . self::e((string) ($settings->read['brake'] ?? '')) . '</p>'
            . '<table class="table table-condensed"><tr><th>Setting</th><th>Value</th><th>From</th><th>What it does</th></tr>'
            . $rows . '</table>';
    }

    /** @param list<array<string, string>> $runs newest first */
    public function runs(array $runs): void
    {
        if ($runs === []) {
            $this->parts[] = '<h3>Last runs</h3><p>No run yet.</p>';
            return;
        }
        $rows = '';
        foreach ($runs as $run) {
            $link = $this->moduleLink . (str_contains($this->moduleLink, '?') ? '&' : '?') . 'run=' . rawurlencode($run['id']);
            $rows .= '<tr><td>' . self::e($run['started_at']) . '</td><td>' . self::e($run['host']) . '</td><td>'
                . self::e($run['mode']) . '</td><td>' . self::e($run['rows_checked']) . '</td><td>'
                . self::e($run['changed_rows']) . '</td><td>' . self::e($run['errors']) . '</td><td>'
                . self::e($run['warnings']) . '</td><td>' . self::e($run['failures']) . '</td><td>'
                . self::e($run['exit_status'] ?? '?') . '</td><td><a href="'
                . self::e($link) . '">' . self::e($run['subject']) . '</a></td></tr>';
        }
        $this->parts[] = '<h3>Last runs</h3><table class="table table-striped"><tr><th>Started</th><th>Host</th>'
            . '<th>Mode</th><th>Domains</th><th>Changed</th><th>Errors</th><th>Warnings</th><th>Failed writes</th>'
            . '<th>Exit status</th><th>Report</th></tr>' . $rows . '</table>';
    }

    /** @param ?array<string, string> $run */
    public function shownRun(?array $run): void
    {
        if ($run === null) {
            $this->errors[] = 'No such run.';
            return;
        }
        $this->parts[] = '<h3>Report of the ' . self::e($run['mode']) . ' run of ' . self::e($run['started_at'])
            . ' (' . self::e($run['host']) . ')</h3><p><strong>' . self::e($run['subject']) . '</strong></p>'
            . '<pre style="white-space:pre-wrap">' . self::e($run['report_text']) . '</pre>';
    }

    public function html(): string
    {
        $errors = array_map(static fn (string $e): string => '<div class="alert alert-danger">' . self::e($e) . '</div>', $this->errors);
        return '<div class="opsync">' . implode("\n", $errors) . implode("\n", $this->parts) . '</div>';
    }

    private static function e(string $text): string
    {
        return htmlspecialchars($text, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
    }
}
