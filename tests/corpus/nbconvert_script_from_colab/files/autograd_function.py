#!/usr/bin/env python
# coding: utf-8

# # Assignment 3: custom autograd Functions

# In[1]:


get_ipython().system('pip install -q torchviz')


# In[2]:


get_ipython().run_line_magic('matplotlib', 'inline')
import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx
import matplotlib.pyplot as plt


# ## Square and Sigmoid

# In[3]:


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return 2 * x * grad_output


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:
        out = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad_output * out * (1 - out)


# ## Functions that change the gradient
# (timed, because `torch.where` surprised me)

# In[4]:


get_ipython().run_cell_magic('time', '', 'class IHateThrees(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:\n        ctx.save_for_backward(x)\n        return torch.where(x == 3, torch.zeros_like(x), x)\n\n    @staticmethod\n    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:\n        (x,) = ctx.saved_tensors\n        return torch.where(x == 3, torch.zeros_like(grad_output), grad_output)\n\n\nclass RoundSTE(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx: FunctionCtx, x: Tensor) -> Tensor:\n        return torch.round(x)\n\n    @staticmethod\n    def backward(ctx: FunctionCtx, grad_output: Tensor) -> Tensor:\n        return grad_output\n')


# ## Broadcasting: MulAdd

# In[5]:


def _sum_to_shape(grad: Tensor, shape: torch.Size) -> Tensor:
    extra = grad.dim() - len(shape)
    if extra > 0:  # dimensions that broadcasting added in front
        grad = grad.sum(dim=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:  # dimensions of size 1 that broadcasting repeated
        grad = grad.sum(dim=stretched, keepdim=True)
    return grad.reshape(shape)


class MulAdd(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(x, w, b)
        return x * w + b

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x, w, b = ctx.saved_tensors
        grad_x = _sum_to_shape(grad_output * w, x.shape)
        grad_w = _sum_to_shape(grad_output * x, w.shape)
        grad_b = _sum_to_shape(grad_output, b.shape)
        return grad_x, grad_w, grad_b


# In[6]:


class ScaleBy(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, k: float) -> Tensor:
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Tensor) -> tuple[Tensor, None]:
        return grad_output * ctx.k, None


# In[7]:


from torchviz import make_dot
x = torch.randn(3, requires_grad=True)
make_dot(Sigmoid.apply(Square.apply(x)).sum())


# In[8]:


xs = torch.linspace(-3, 3, 61, requires_grad=True)
ys = RoundSTE.apply(xs)
ys.sum().backward()
plt.plot(xs.detach(), ys.detach(), label="round(x)")
plt.plot(xs.detach(), xs.grad, label="STE gradient")
plt.legend()

