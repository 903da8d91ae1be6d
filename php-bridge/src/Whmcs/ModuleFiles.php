<?php

declare(strict_types=1);

namespace Opsync\Whmcs;

/**
 * What the Openprovider module's own files say about the install: the module's updater
 * copies its whole tree back (its `cron/DomainSync.php`, which dies, over opsync's shim),
 * and the delegation of `openprovider_Sync` lives in the module's `openprovider.php`.
 * Read-only: the page and the command line show what it finds.
 */
final class ModuleFiles
{
    /** What opsync's shim at the module's cron path says of itself. */
    public const SHIM_MARKER = "opsync, at the path of the Openprovider module's old DomainSync.php cron";

    /** What a delegating `openprovider_Sync` loads (INSTALL.md's line). */
    public const DELEGATION = 'modules/addons/opsync/delegate.php';

    /** The module's cron script, relative to the WHMCS root. */
    public const CRON = '/modules/registrars/openprovider/cron/DomainSync.php';

    /** opsync's own cron entry point, which a module update does not touch. */
    public const ENTRY = '/modules/addons/opsync/cron.php';

    /**
     * Findings, worst first: each a level (`warning`, `info`) and one line.
     *
     * @return list<array{level: string, text: string}>
     */
    public static function check(string $root): array
    {
        $found = [];
        $cron = $root . self::CRON;
        $text = is_file($cron) ? (string) @file_get_contents($cron) : null;
        if ($text !== null && !str_contains($text, self::SHIM_MARKER)) {
            $found[] = ['level' => 'warning', 'text' => "A module update put the Openprovider module's own cron/DomainSync.php "
                . 'back: a crontab that runs it now runs a script that dies. Point the crontab at ' . $root . self::ENTRY
                . ', which updates do not touch.'];
        }
        $module = $root . '/modules/registrars/openprovider/openprovider.php';
        if (is_file($module)) {
            $delegates = str_contains((string) @file_get_contents($module), self::DELEGATION);
            $found[] = ['level' => 'info', 'text' => $delegates
                ? "WHMCS's own domain sync asks opsync: the module's openprovider_Sync delegates to it."
                : "WHMCS's own domain sync asks the Openprovider module, not opsync (INSTALL.md, \"WHMCS's own domain sync\")."];
        }
        return $found;
    }
}
