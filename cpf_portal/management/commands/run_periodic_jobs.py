"""Run every periodic job once — for the embedded default without a beat process, or cron."""

from django.core.management.base import BaseCommand

from accounts.tasks import purge_login_logs
from billing.tasks import alert_overdue_invoices, prepare_payment_batch
from catalogue.tasks import refresh_search_index
from dossiers.tasks import process_deadlines, reconcile_payments
from evaluations.tasks import ask_ended_trainings
from financing.tasks import dif_reminders, process_refunds
from notifications.tasks import requeue_stuck_emails


class Command(BaseCommand):
    help = "Exécute une fois les tâches périodiques (échéances des dossiers, paiements à rapprocher, rappels, demandes d'évaluation, remboursements, lot de paiement des factures, factures en retard, index de recherche, courriels en attente, journal des connexions)."

    def handle(self, *args, **options):
        self.stdout.write(f"Dossiers : {process_deadlines()}")
        self.stdout.write(f"Paiements rapprochés : {reconcile_payments()}")
        self.stdout.write(f"Rappels DIF envoyés : {dif_reminders()}")
        self.stdout.write(f"Évaluations demandées (sessions terminées) : {ask_ended_trainings()}")
        self.stdout.write(f"Index de recherche : {refresh_search_index()}")
        self.stdout.write(f"Remboursements par carte effectués : {process_refunds()}")
        self.stdout.write(f"Lot de paiement des organismes : {prepare_payment_batch()}")
        self.stdout.write(f"Factures en retard signalées : {alert_overdue_invoices()}")
        self.stdout.write(f"Courriels remis en file : {requeue_stuck_emails()}")
        self.stdout.write(f"Tentatives de connexion oubliées : {purge_login_logs()}")
