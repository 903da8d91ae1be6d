<?php

/**
 * opsync, at the path of the Openprovider module's old DomainSync.php cron, so existing
 * crontabs keep working:
 *
 *     php -q <WHMCS>/modules/registrars/openprovider/cron/DomainSync.php [--dry-run] [--batch N] [--all] [--verbose]
 *
 * The work is done by the opsync addon (modules/addons/opsync), which a module update
 * does not replace. Command line only. See the addon's INSTALL.md.
 */

declare(strict_types=1);

if (PHP_SAPI !== 'cli') {
    http_response_code(403);
    exit("ACCESS DENIED. CONFIGURE CLI CRON.\n");
}

require __DIR__ . '/../../../../init.php';

$opsync = ROOTDIR . '/modules/addons/opsync/src/autoload.php';
if (!is_file($opsync)) {
    fwrite(STDERR, "opsync: the opsync addon is missing ($opsync); install it with opsync-whmcs-install.php\n");
    exit(5);
}
require $opsync;

exit(\Opsync\Whmcs\Cli::main($argv, new \Opsync\Whmcs\WhmcsHost()));
