<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * The addon's admin page, as HTML: what a run just did, the settings in effect and where
 * each came from, the "Plan" and "Sync now" buttons, the last runs of both hosts, and one
 * run's report. Everything that came from the database or Openprovider is escaped.
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
        $lines = $outcome->lines();
        if ($outcome->mailed()) {
            array_unshift($lines, 'The report was mailed to the admins with System emails.');
        }
        $mail = implode(' ', $lines);
        $held = $outcome->held();
        $report = $outcome->report() ?? ['subject' => implode(' ', $outcome->lines()), 'text' => ''];
        $release = $held
            ? '<p>If the changes below are right, release one run:</p><form method="post" action="' . self::e($this->moduleLink) . '">'
                . '<input type="hidden" name="opsync_action" value="sync_release">'
                . '<button type="submit" class="btn btn-danger">Sync now, releasing the brake once</button></form>'
            : '';
        $this->parts[] = '<div class="alert ' . ($held ? 'alert-warning' : 'alert-info') . '"><h3>' . self::e($title) . '</h3><p><strong>'
            . self::e($report['subject']) . '</strong></p>'
            . ($mail !== '' ? '<p>' . self::e($mail) . '</p>' : '') . $release
            . '<pre style="white-space:pre-wrap">' . self::e($report['text']) . '</pre></div>';
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
            . $rows . '</table>'
            . '<form method="post" action="' . self::e($this->moduleLink) . '" style="display:inline">'
            . '<input type="hidden" name="opsync_action" value="plan">'
            . '<button type="submit" class="btn btn-default">Plan (change nothing)</button></form> '
            . '<form method="post" action="' . self::e($this->moduleLink) . '" style="display:inline">'
            . '<input type="hidden" name="opsync_action" value="sync">'
            . '<button type="submit" class="btn btn-primary">Sync now</button></form>';
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
