"""The pytorch/examples `vae/main.py` recipe, reproduced as the baseline our training is judged against.

Model, loss and optimiser are those of https://github.com/pytorch/examples/blob/main/vae/main.py:
fc1 784->400, fc21/fc22 400->20, fc3 20->400, fc4 400->784; BCE summed + KL; Adam(lr=1e-3);
batch 128; a torch DataLoader over a Dataset that turns each uint8 image into a PIL image and
then into a tensor with `transforms.ToTensor()`, exactly as `torchvision.datasets.MNIST` does.
"""

import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class ReferenceVAE(nn.Module):
    """The example's VAE, unchanged (its state_dict loads into genmodels.VAE)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def reference_loss(recon_x, x, mu, logvar):
    """Reconstruction + KL summed over the batch, as in the example (Appendix B of Kingma & Welling)."""
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


class PILImages(Dataset):
    """uint8 images served one at a time through PIL and a transform, like torchvision's MNIST."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform=transforms.ToTensor()):
        self.images, self.labels, self.transform = images.numpy(), labels.numpy(), transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = Image.fromarray(self.images[index], mode="L")
        return self.transform(image), int(self.labels[index])


def reference_loader(images, labels, batch_size=128, seed=0) -> DataLoader:
    """Return the example's training DataLoader (shuffled, batch 128, main-process loading)."""
    return DataLoader(PILImages(images, labels), batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def train_reference_epoch(model, optimizer, loader) -> float:
    """Run one training epoch of the example's loop; return the mean loss per image (nats)."""
    model.train()
    total = 0.0
    for data, _ in loader:
        optimizer.zero_grad()
        recon, mu, logvar = model(data)
        loss = reference_loss(recon, data, mu, logvar)
        loss.backward()
        total += loss.item()
        optimizer.step()
    return total / len(loader.dataset)
